import { CnmcspClient, type WireMessage } from '../../src/client/cnmcsp-client';
import type { Tenant } from '../../src/domain/model';
import { encryptMessage, generateDisperseKey, parseRegistrationCode } from '../../src/security/message-crypto';
import { SPEC_EXAMPLES } from '../fixtures/spec-examples';
import { countRows } from '../support/row-counts';
import { createKeyedTenant, keyServiceOf, WORKED_EXAMPLE } from '../support/tenant-keys';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';
import { readAnswer, sendWire, type WireTransport } from '../support/wire';

/**
 * DECISIONS §3 enforced on a running platform, over real HTTP on a real database: the worked
 * example, the answer under a fresh DisperseKey, tenant resolution by key and by path, and every
 * refusal of issue 4 with its code and with nothing stored.
 */

// Platform starts and restarts take seconds each, many more on a busy machine.
jest.setTimeout(180_000);

const OTHER_CODE = 'A1B2C3D4E5F60718293A4B5C6D7E8F90FEDCBA98765432100123456789ABCDEF';

function seal(code: string, payload: string, disperseKey = generateDisperseKey()): WireMessage {
  return { disperseKey, ...encryptMessage(parseRegistrationCode(code), disperseKey, payload) };
}

/** The same Base64 text with one bit of the decoded bytes flipped. */
function flipBit(base64: string, byteIndex: number): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[byteIndex] = (bytes[byteIndex] as number) ^ 0x01;
  return bytes.toString('base64');
}

function flipHexDigit(hex: string): string {
  return (hex[0] === '0' ? '1' : '0') + hex.slice(1);
}

describe.each<WireTransport>(['rest', 'soap'])('message security over %s', (transport) => {
  let platform: TestPlatform;
  let cangnan: Tenant;
  let other: { tenant: Tenant; code: string };
  let client: CnmcspClient;

  const send = (operation: Parameters<typeof sendWire>[2], message: WireMessage, prefix = '') =>
    sendWire(platform.url, transport, operation, message, prefix);

  /** Sends the message and expects a refusal with `code` that changed no row anywhere. */
  async function expectRefusedLeavingNothing(
    operation: Parameters<typeof sendWire>[2],
    message: WireMessage,
    code: number,
    options: { readWith?: string; prefix?: string } = {},
  ) {
    const before = await countRows(platform.database.dataSource);
    const answer = readAnswer(await send(operation, message, options.prefix), options.readWith);
    expect(answer.ReturnCode).toBe(code);
    expect(await countRows(platform.database.dataSource)).toEqual(before);
    return answer;
  }

  beforeAll(async () => {
    platform = await startTestPlatform();
    ({ tenant: cangnan } = await createKeyedTenant(
      platform,
      { code: 'cangnan', name: '苍南仪表集团' },
      WORKED_EXAMPLE.registrationCode,
    ));
    other = await createKeyedTenant(platform, { code: 'other', name: '别的燃气公司' }, OTHER_CODE);
    client = new CnmcspClient({ baseUrl: platform.url, transport, registrationCode: WORKED_EXAMPLE.registrationCode });
  });
  afterAll(() => platform.close());

  it('opens an account encrypted and answers it encrypted under a new DisperseKey, verified', async () => {
    const answer = await client.call('MeterAdd', SPEC_EXAMPLES.MeterAdd);

    expect(answer).toMatchObject({ returnCode: 0, returnMessage: '接口功能执行成功', verified: true });
    expect(answer.received.disperseKey).toMatch(/^\d{16}$/);
    expect(answer.received.disperseKey).not.toBe(answer.sent.disperseKey);
    expect(answer.received.macValue).toMatch(/^[0-9A-F]{16}$/);
    const [meter] = await platform.database.dataSource.query(`SELECT tenant_id FROM meter WHERE meter_id = '012345678912'`);
    expect(meter).toEqual({ tenant_id: cangnan.id });
  });

  it('carries out the worked example of DECISIONS §3.4 sent verbatim (MeterSuspend)', async () => {
    const { disperseKey, encryptData, macValue } = WORKED_EXAMPLE;
    const answer = readAnswer(await send('MeterSuspend', { disperseKey, encryptData, macValue }), WORKED_EXAMPLE.registrationCode);

    expect(answer).toEqual({ ReturnCode: 0, ReturnMessage: '接口功能执行成功' });
    const [meter] = await platform.database.dataSource.query(`SELECT state FROM meter WHERE meter_id = '012345678912'`);
    expect(meter).toEqual({ state: -1 });
  });

  it('refuses the worked example sent again (80003003), and again after its operation failed', async () => {
    const { disperseKey, encryptData, macValue } = WORKED_EXAMPLE;
    await expectRefusedLeavingNothing('MeterSuspend', { disperseKey, encryptData, macValue }, 80003003, {
      readWith: WORKED_EXAMPLE.registrationCode,
    });

    const failing = seal(WORKED_EXAMPLE.registrationCode, SPEC_EXAMPLES.MeterSuspend.replace('KYNYN144860', 'NOBODY'));
    expect(readAnswer(await send('MeterSuspend', failing), WORKED_EXAMPLE.registrationCode).ReturnCode).toBe(80002013);
    await expectRefusedLeavingNothing('MeterSuspend', failing, 80003003, { readWith: WORKED_EXAMPLE.registrationCode });
  });

  it('refuses a flipped bit in EncryptData or in MacValue (80003001)', async () => {
    const message = seal(WORKED_EXAMPLE.registrationCode, SPEC_EXAMPLES.MeterResume);

    await expectRefusedLeavingNothing('MeterResume', { ...message, encryptData: flipBit(message.encryptData, 0) }, 80003001);
    await expectRefusedLeavingNothing('MeterResume', { ...message, encryptData: flipBit(message.encryptData, 40) }, 80003001);
    await expectRefusedLeavingNothing('MeterResume', { ...message, macValue: flipHexDigit(message.macValue) }, 80003001);
  });

  it('refuses a message sealed with a registration code the platform never issued (80003001)', async () => {
    const unknownCode = 'FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210';
    await expectRefusedLeavingNothing('MeterResume', seal(unknownCode, SPEC_EXAMPLES.MeterResume), 80003001);
  });

  it('refuses another tenant’s code on this tenant’s path (80003001)', async () => {
    const payload = SPEC_EXAMPLES.MeterResume.replace('苍南仪表集团', '别的燃气公司');
    await expectRefusedLeavingNothing('MeterResume', seal(other.code, payload), 80003001, { prefix: '/cangnan' });
  });

  it('refuses a DisperseKey that is not 16 digits (80003001)', async () => {
    const message = seal(WORKED_EXAMPLE.registrationCode, SPEC_EXAMPLES.MeterResume);
    const digits = message.disperseKey;
    for (const disperseKey of [digits.slice(1), `${digits}0`, `${digits.slice(1)}A`, `${digits.slice(0, 8)}-${digits.slice(9)}`]) {
      const answer = await expectRefusedLeavingNothing('MeterResume', { ...message, disperseKey }, 80003001);
      expect(answer.ReturnMessage).toContain('DisperseKey 应为 16 位数字');
    }
  });

  it('refuses EncryptData that is not Base64 (80003002)', async () => {
    const message = seal(WORKED_EXAMPLE.registrationCode, SPEC_EXAMPLES.MeterResume);
    for (const encryptData of [`${message.encryptData.slice(0, 20)}*${message.encryptData.slice(21)}`, message.encryptData.replace(/=+$/, ''), SPEC_EXAMPLES.MeterResume]) {
      const answer = await expectRefusedLeavingNothing('MeterResume', { ...message, encryptData }, 80003002);
      expect(answer.ReturnMessage).toContain('Base64');
    }
  });

  it('refuses a DataFrom that is not the tenant of the key (80003004), answering encrypted', async () => {
    const payload = SPEC_EXAMPLES.MeterResume.replace('苍南仪表集团', '别的燃气公司');
    const before = await countRows(platform.database.dataSource);

    const answer = readAnswer(await send('MeterResume', seal(WORKED_EXAMPLE.registrationCode, payload)), WORKED_EXAMPLE.registrationCode);

    expect(answer.ReturnCode).toBe(80003004);
    // Only the DisperseKey is recorded, so that this request cannot be replayed either.
    const after = await countRows(platform.database.dataSource);
    expect(after).toEqual({ ...before, disperse_key_use: before.disperse_key_use + 1 });
  });

  it('refuses plaintext to a tenant not flagged plaintext (80003005)', async () => {
    await expectRefusedLeavingNothing('MeterResume', { encryptData: SPEC_EXAMPLES.MeterResume, disperseKey: '', macValue: '' }, 80003005);
  });

  it('refuses plaintext on such a tenant’s own path before reading it: 80003005 even for a body that is not JSON', async () => {
    for (const encryptData of ['garbage', '{"UserID":', SPEC_EXAMPLES.MeterResume]) {
      await expectRefusedLeavingNothing('MeterResume', { encryptData, disperseKey: '', macValue: '' }, 80003005, {
        prefix: '/cangnan',
      });
    }
  });

  it('finds the tenant by its key on the plain path and by its prefix on its own path', async () => {
    const otherClient = new CnmcspClient({ baseUrl: platform.url, transport, registrationCode: other.code });
    const otherAdd = SPEC_EXAMPLES.MeterAdd.replace('苍南仪表集团', '别的燃气公司');
    expect((await otherClient.call('MeterAdd', otherAdd)).returnCode).toBe(0);

    const prefixed = new CnmcspClient({ baseUrl: `${platform.url}/cangnan`, transport, registrationCode: WORKED_EXAMPLE.registrationCode });
    expect(await prefixed.call('MeterResume', SPEC_EXAMPLES.MeterResume)).toMatchObject({ returnCode: 0, verified: true });

    const owners = await platform.database.dataSource.query(`SELECT tenant_id, state FROM meter ORDER BY tenant_id`);
    expect(owners).toEqual([
      { tenant_id: cangnan.id, state: 0 },
      { tenant_id: other.tenant.id, state: 0 },
    ]);
  });

  it('accepts encrypted requests from a plaintext tenant too, and answers them encrypted', async () => {
    const { tenant, code } = await createKeyedTenant(platform, { plaintext: true });
    const payload = SPEC_EXAMPLES.MeterSuspend.replace('苍南仪表集团', tenant.name);
    const plainClient = new CnmcspClient({ baseUrl: platform.url, transport });
    const keyedClient = new CnmcspClient({ baseUrl: platform.url, transport, registrationCode: code });

    expect(await plainClient.call('MeterSuspend', payload)).toMatchObject({ returnCode: 80002013, verified: false });
    expect(await keyedClient.call('MeterSuspend', payload)).toMatchObject({ returnCode: 80002013, verified: true });
  });

  it('refuses a disabled tenant on the plain path (80003001) and on its own path (80003004)', async () => {
    await platform.tenants.update('other', { disabled: true });
    const payload = SPEC_EXAMPLES.MeterSuspend.replace('苍南仪表集团', '别的燃气公司');

    await expectRefusedLeavingNothing('MeterSuspend', seal(other.code, payload), 80003001);
    await expectRefusedLeavingNothing('MeterSuspend', seal(other.code, payload), 80003004, { prefix: '/other' });

    await platform.tenants.update('other', { disabled: false });
    const otherClient = new CnmcspClient({ baseUrl: platform.url, transport, registrationCode: other.code });
    expect((await otherClient.call('MeterSuspend', payload)).returnCode).toBe(0);
  });

  it('keeps the previous code working, answering under it, until the overlap of a rotation ends', async () => {
    const { tenant, code: firstCode } = await createKeyedTenant(platform, {});
    const { code: secondCode, previousValidUntil } = await keyServiceOf(platform).rotate(tenant.code, 3600);
    const payload = SPEC_EXAMPLES.MeterSuspend.replace('苍南仪表集团', tenant.name);
    const callWith = (code: string) =>
      new CnmcspClient({ baseUrl: platform.url, transport, registrationCode: code }).call('MeterSuspend', payload);

    expect(Math.abs((previousValidUntil as Date).getTime() - Date.now() - 3600_000)).toBeLessThan(60_000);
    expect(await callWith(firstCode)).toMatchObject({ returnCode: 80002013, verified: true });
    expect(await callWith(secondCode)).toMatchObject({ returnCode: 80002013, verified: true });

    // The overlap ends (moved to now rather than waited for).
    await platform.database.dataSource.query(
      `UPDATE tenant_credential SET valid_until = now() WHERE tenant_id = $1 AND valid_until IS NOT NULL`,
      [tenant.id],
    );
    await expectRefusedLeavingNothing('MeterSuspend', seal(firstCode, payload), 80003001);
    expect(await callWith(secondCode)).toMatchObject({ returnCode: 80002013, verified: true });
  });

  it('stops every code of a tenant when a rotation has no overlap', async () => {
    const { tenant, code: leaked } = await createKeyedTenant(platform, {});
    const { code: fresh } = await keyServiceOf(platform).rotate(tenant.code, 0);
    const payload = SPEC_EXAMPLES.MeterSuspend.replace('苍南仪表集团', tenant.name);

    await expectRefusedLeavingNothing('MeterSuspend', seal(leaked, payload), 80003001);
    const freshClient = new CnmcspClient({ baseUrl: platform.url, transport, registrationCode: fresh });
    expect((await freshClient.call('MeterSuspend', payload)).returnCode).toBe(80002013);
  });
});
