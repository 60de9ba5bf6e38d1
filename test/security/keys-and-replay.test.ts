import { statSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { CnmcspClient, type WireMessage } from '../../src/client/cnmcsp-client';
import { ConfigError, loadConfig } from '../../src/config/config';
import { encryptMessage, generateDisperseKey, parseRegistrationCode } from '../../src/security/message-crypto';
import { startPlatform } from '../../src/platform';
import { silentLogger } from '../../src/logger';
import { SPEC_EXAMPLES } from '../fixtures/spec-examples';
import { countRows } from '../support/row-counts';
import { createKeyedTenant, keyServiceOf } from '../support/tenant-keys';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';
import { readAnswer, sendWire } from '../support/wire';

/**
 * What outlives a request: the replay log across restarts and its window (DECISIONS §3.7), the
 * platform secret and the sealed registration codes (issue 4), and what reaches the logs.
 */

// Platform starts and restarts take seconds each, many more on a busy machine.
jest.setTimeout(180_000);

function seal(code: string, payload: string): WireMessage {
  const disperseKey = generateDisperseKey();
  return { disperseKey, ...encryptMessage(parseRegistrationCode(code), disperseKey, payload) };
}

describe('the replay log (DECISIONS §3.7)', () => {
  let platform: TestPlatform;

  afterEach(() => platform?.close());

  it('refuses a replayed request after a restart on the same database (80003003)', async () => {
    platform = await startTestPlatform({ persistent: true });
    const { code } = await createKeyedTenant(platform, { name: '苍南仪表集团' });
    const client = new CnmcspClient({ baseUrl: platform.url, transport: 'rest', registrationCode: code });
    expect((await client.call('MeterAdd', SPEC_EXAMPLES.MeterAdd)).returnCode).toBe(0);
    const suspend = seal(code, SPEC_EXAMPLES.MeterSuspend);
    expect(readAnswer(await sendWire(platform.url, 'rest', 'MeterSuspend', suspend), code).ReturnCode).toBe(0);

    platform = await platform.restart();
    const before = await countRows(platform.database.dataSource);
    for (const transport of ['rest', 'soap'] as const) {
      const answer = readAnswer(await sendWire(platform.url, transport, 'MeterSuspend', suspend), code);
      expect(answer.ReturnCode).toBe(80003003);
    }
    expect(await countRows(platform.database.dataSource)).toEqual(before);
  });

  it('accepts a DisperseKey again once the window has passed', async () => {
    platform = await startTestPlatform();
    const { code } = await createKeyedTenant(platform, { name: '苍南仪表集团' });
    const message = seal(code, SPEC_EXAMPLES.MeterSuspend);
    const send = async () => readAnswer(await sendWire(platform.url, 'rest', 'MeterSuspend', message), code).ReturnCode;

    expect(await send()).toBe(80002013);
    expect(await send()).toBe(80003003);
    // The default window is 24 hours: move the first use 25 hours back rather than wait.
    await platform.database.dataSource.query(`UPDATE disperse_key_use SET used_at = used_at - interval '25 hours'`);
    expect(await send()).toBe(80002013);
    expect(await send()).toBe(80003003);
  });

  it('prunes the keys used before the window by itself, so the log stays bounded', async () => {
    // 0.001 h = 3.6 s: the platform then prunes every second.
    platform = await startTestPlatform({ environment: { REPLAY_WINDOW_HOURS: '0.001' } });
    const { code } = await createKeyedTenant(platform, { name: '苍南仪表集团' });
    for (let index = 0; index < 3; index += 1) {
      await sendWire(platform.url, 'rest', 'MeterSuspend', seal(code, SPEC_EXAMPLES.MeterSuspend));
    }
    const count = async () => (await countRows(platform.database.dataSource)).disperse_key_use;
    expect(await count()).toBe(3);

    await platform.database.dataSource.query(`UPDATE disperse_key_use SET used_at = now() - interval '1 hour'`);
    const deadline = Date.now() + 30_000;
    while ((await count()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await count()).toBe(0);
  });

  it('lets exactly one of many simultaneous copies of a request through', async () => {
    platform = await startTestPlatform();
    const { code } = await createKeyedTenant(platform, { name: '苍南仪表集团' });
    const message = seal(code, SPEC_EXAMPLES.MeterSuspend);

    const codes = await Promise.all(
      Array.from({ length: 8 }, async () =>
        readAnswer(await sendWire(platform.url, 'rest', 'MeterSuspend', message), code).ReturnCode,
      ),
    );

    expect(codes.filter((answered) => answered === 80003003)).toHaveLength(7);
    expect(codes.filter((answered) => answered === 80002013)).toHaveLength(1);
  });
});

describe('the platform secret and the stored registration codes', () => {
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'cnmcsp-secret-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  /** The embedded default, as `npm start` runs it: nothing set but the data folder. */
  const embeddedConfig = (extra: Record<string, string> = {}) =>
    loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: directory, DEMO_TENANT: 'off', ...extra });

  it('generates a secret into the data folder on the embedded database (mode 0600) and keeps it', async () => {
    let platform = await startPlatform({ config: embeddedConfig(), logger: silentLogger });
    const file = path.join(directory, 'platform-secret');
    const secret = readFileSync(file, 'utf8');
    expect(secret).toMatch(/^[0-9a-f]{64}\n$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await platform.close();

    platform = await startPlatform({ config: embeddedConfig(), logger: silentLogger });
    await platform.close();
    expect(readFileSync(file, 'utf8')).toBe(secret);
  });

  it('refuses to start with DATABASE_URL and no PLATFORM_SECRET, saying what to set', async () => {
    const config = embeddedConfig({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });

    await expect(startPlatform({ config, logger: silentLogger })).rejects.toThrow(/PLATFORM_SECRET is not set.*64 hexadecimal/s);
  });

  it('refuses a malformed secret, in the environment or in the data folder', async () => {
    expect(() => embeddedConfig({ PLATFORM_SECRET: 'abc' })).toThrow(ConfigError);
    expect(() => embeddedConfig({ PLATFORM_SECRET: 'abc' })).toThrow(/PLATFORM_SECRET: must be 64 hexadecimal/);

    writeFileSync(path.join(directory, 'platform-secret'), 'not a secret\n');
    await expect(startPlatform({ config: embeddedConfig(), logger: silentLogger })).rejects.toThrow(
      /platform-secret must hold the platform secret as 64 hexadecimal characters/,
    );
  });

  it('refuses to start when a stored code does not open with the secret, naming the tenant and the fix', async () => {
    const platform = await startTestPlatform({ persistent: true });
    await createKeyedTenant(platform, { code: 'cangnan', name: '苍南仪表集团' });

    const wrongSecret = 'ab'.repeat(32);
    await expect(platform.restart({ PLATFORM_SECRET: wrongSecret })).rejects.toThrow(
      /registration code #1 of tenant cangnan cannot be used.*revoke-codes cangnan/s,
    );
  });
});

describe('registration codes in the key service', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform();
  });
  afterAll(() => platform.close());

  it('stores codes only sealed, and issues a second one only by rotation', async () => {
    const { tenant, code } = await createKeyedTenant(platform, {});
    const [row] = await platform.database.dataSource.query(
      `SELECT encode(sealed_code, 'hex') AS sealed FROM tenant_credential WHERE tenant_id = $1`,
      [tenant.id],
    );
    expect(row.sealed).toHaveLength(122);
    expect(row.sealed.toUpperCase()).not.toContain(code.slice(0, 16));

    await expect(keyServiceOf(platform).issue(tenant.code)).rejects.toThrow(/already has a registration code.*rotate-code/);
    const states = async () => (await keyServiceOf(platform).list(tenant.code)).map((entry) => entry.state);
    await keyServiceOf(platform).rotate(tenant.code, 3600);
    expect(await states()).toEqual(['overlap', 'current']);
    await keyServiceOf(platform).rotate(tenant.code, 0);
    expect(await states()).toEqual(['revoked', 'revoked', 'current']);
  });

  it('refuses a registration code that is not 64 hexadecimal characters, without echoing it', async () => {
    const tenant = await platform.createTenant({});
    await expect(keyServiceOf(platform).issue(tenant.code, 'secret-but-wrong')).rejects.toThrow(
      /exactly 64 hexadecimal characters.*the one given has 16 characters/,
    );
  });
});

describe('what the logs hold', () => {
  it('never a registration code, a key or a decrypted payload, even at trace level', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const platform = await startTestPlatform({ logger: pino({ level: 'trace' }, sink) });
    try {
      const { code } = await createKeyedTenant(platform, { name: '苍南仪表集团' });
      const client = new CnmcspClient({ baseUrl: platform.url, transport: 'soap', registrationCode: code });
      await client.call('MeterAdd', SPEC_EXAMPLES.MeterAdd);
      await client.call('MeterSuspend', SPEC_EXAMPLES.MeterSuspend.replace('苍南仪表集团', '别的燃气公司'));
      const refused = seal(code, SPEC_EXAMPLES.MeterSuspend);
      await sendWire(platform.url, 'rest', 'MeterSuspend', { ...refused, macValue: '0000000000000000' });
    } finally {
      await platform.close();
    }

    const log = lines.join('');
    expect(log).toContain('interface call');
    for (const secret of ['KYNYN144860', '012345678912', '苍南仪表集团', '别的燃气公司', '13566956201']) {
      expect(log).not.toContain(secret);
    }
    expect(log).not.toMatch(/[0-9A-Fa-f]{32}/);
  });
});
