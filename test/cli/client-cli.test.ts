import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { OperationName } from '../../src/domain/operations';
import { runCli, type CliResult } from '../support/cli';
import { ACCOUNT_OPERATIONS, FIRST_METER, isSpecCode, meterAfter, TOUR, tourPayload } from '../support/operation-tour';
import { WORKED_EXAMPLE } from '../support/tenant-keys';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';

/**
 * The `cnmcsp` command as an integrator and an operator use it, each run a process of its own:
 * registration codes issued, rotated and revoked (issue 4), and `call`, `encrypt`, `decrypt`
 * against a running platform.
 */
const HEX_CODE = /^ {2}([0-9A-F]{64})$/m;

// Every command is a Node process of its own (about a second each, more on a busy machine).
jest.setTimeout(180_000);

describe('the cnmcsp key and client commands', () => {
  let platform: TestPlatform;
  let directory: string;
  /** The CLI reaches the platform's database (embedded: through its socket) with its secret. */
  let operator: NodeJS.ProcessEnv;

  const writePayload = (name: string, text: string) => {
    const file = path.join(directory, name);
    fs.writeFileSync(file, `${text}\n`, 'utf8');
    return file;
  };

  async function issueCode(tenantCode: string): Promise<string> {
    const issued = await runCli(['tenant', 'issue-code', tenantCode], operator);
    expect(issued).toMatchObject({ code: 0, stderr: '' });
    return (HEX_CODE.exec(issued.stdout) as RegExpExecArray)[1] as string;
  }

  /** `cnmcsp call`; the ReturnCode and trust it printed on stderr, the answer JSON on stdout. */
  async function call(operation: OperationName, payload: string, options: { transport?: string; code?: string; url?: string; extra?: string[] } = {}) {
    const file = writePayload(`${operation}-${Math.random().toString(36).slice(2)}.json`, payload);
    const args = ['call', operation, file, '--url', options.url ?? platform.url, '--transport', options.transport ?? 'rest'];
    const result = await runCli([...args, ...(options.extra ?? [])], { CNMCSP_REGISTRATION_CODE: options.code ?? '' });
    return { result, ...summaryOf(operation, result) };
  }

  function summaryOf(operation: string, result: CliResult) {
    const summary = new RegExp(`^${operation}: ReturnCode (\\d+) \\((verified|not encrypted)\\)`, 'm').exec(result.stderr);
    if (!summary) throw new Error(`no summary from cnmcsp call (exit ${result.code}):\n${result.stderr}`);
    const answer = JSON.parse(result.stdout) as { ReturnCode: number };
    expect(answer.ReturnCode).toBe(Number(summary[1]));
    expect(result.code).toBe(answer.ReturnCode === 0 ? 0 : 2);
    return { returnCode: answer.ReturnCode, verified: summary[2] === 'verified', answer };
  }

  beforeAll(async () => {
    platform = await startTestPlatform();
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'cnmcsp-client-cli-'));
    operator = { DATABASE_URL: platform.database.url, PLATFORM_SECRET: platform.environment.PLATFORM_SECRET };
  });
  afterAll(async () => {
    await platform.close();
    fs.rmSync(directory, { recursive: true, force: true });
  });

  it('encrypts and decrypts the worked example of DECISIONS §3.4 by hand', async () => {
    const payloadFile = writePayload('example.json', WORKED_EXAMPLE.payload);
    const code = ['--code', WORKED_EXAMPLE.registrationCode];

    const encrypted = await runCli(['encrypt', ...code, '--disperse-key', WORKED_EXAMPLE.disperseKey, payloadFile]);
    expect(encrypted).toMatchObject({
      code: 0,
      stdout: `DisperseKey: ${WORKED_EXAMPLE.disperseKey}\nEncryptData: ${WORKED_EXAMPLE.encryptData}\nMacValue: ${WORKED_EXAMPLE.macValue}\n`,
    });

    const opening = ['decrypt', ...code, '--disperse-key', WORKED_EXAMPLE.disperseKey];
    const decrypted = await runCli([...opening, '--mac', WORKED_EXAMPLE.macValue, WORKED_EXAMPLE.encryptData]);
    expect(decrypted).toMatchObject({ code: 0, stdout: `${WORKED_EXAMPLE.payload}\n` });

    const tampered = await runCli([...opening, '--mac', '7D71D4B825462535', WORKED_EXAMPLE.encryptData]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain('80003001');
  });

  it('issues a registration code once, shown once, and refuses a second issue', async () => {
    const tenant = await platform.createTenant({ code: 'issued', plaintext: false });
    const code = await issueCode(tenant.code);

    const [row] = await platform.database.dataSource.query(`SELECT count(*)::int AS n FROM tenant_credential WHERE tenant_id = $1`, [tenant.id]);
    expect(row).toEqual({ n: 1 });
    const again = await runCli(['tenant', 'issue-code', tenant.code], operator);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('use `cnmcsp tenant rotate-code issued`');
    expect(again.stdout).not.toContain(code);
  });

  it.each(['rest', 'soap'])('runs all 13 operations encrypted over %s, each answer verified', async (transport) => {
    const tenant = await platform.createTenant({ code: `tour-${transport}`, plaintext: false });
    const code = await issueCode(tenant.code);
    let meterId = FIRST_METER;

    for (const operation of TOUR) {
      const { returnCode, verified } = await call(operation, tourPayload(operation, tenant.name, meterId), { transport, code });

      expect([operation, verified]).toEqual([operation, true]);
      expect(isSpecCode(returnCode)).toBe(true);
      if (ACCOUNT_OPERATIONS.has(operation)) expect([operation, returnCode]).toEqual([operation, 0]);
      meterId = meterAfter(operation, returnCode, meterId);
    }
  }, 300_000);

  it('rotates a code: the old one keeps working until the overlap ends; revoking stops all', async () => {
    const tenant = await platform.createTenant({ code: 'rotating', plaintext: false });
    const oldCode = await issueCode(tenant.code);
    const payload = tourPayload('MeterSuspend', tenant.name, FIRST_METER);

    const rotated = await runCli(['tenant', 'rotate-code', tenant.code, '--overlap', '2h'], operator);
    expect(rotated.code).toBe(0);
    const until = /The previous code keeps working until (\S+)\./.exec(rotated.stdout)?.[1] as string;
    expect(Math.abs(Date.parse(until) - Date.now() - 2 * 3600_000)).toBeLessThan(120_000);
    const newCode = (HEX_CODE.exec(rotated.stdout) as RegExpExecArray)[1] as string;
    expect(newCode).not.toBe(oldCode);

    expect(await call('MeterSuspend', payload, { code: oldCode })).toMatchObject({ returnCode: 80002013, verified: true });
    expect(await call('MeterSuspend', payload, { code: newCode })).toMatchObject({ returnCode: 80002013, verified: true });
    // The overlap ends (moved to now rather than waited for).
    await platform.database.dataSource.query(
      `UPDATE tenant_credential SET valid_until = now() WHERE tenant_id = $1 AND valid_until IS NOT NULL`,
      [tenant.id],
    );
    expect(await call('MeterSuspend', payload, { code: oldCode })).toMatchObject({ returnCode: 80003001, verified: false });

    const listed = await runCli(['tenant', 'codes', tenant.code], operator);
    expect(listed.stdout).toMatch(/'expired'[\s\S]*'current'/);
    expect(listed.stdout).not.toContain(newCode);

    expect((await runCli(['tenant', 'revoke-codes', tenant.code], operator)).stdout).toContain('1 registration code(s) of tenant rotating revoked');
    expect(await call('MeterSuspend', payload, { code: newCode })).toMatchObject({ returnCode: 80003001, verified: false });
  });

  it('refuses a tenant disabled with `tenant set --disable`, on the plain path and on its own', async () => {
    const tenant = await platform.createTenant({ code: 'disabled', plaintext: false });
    const code = await issueCode(tenant.code);
    const payload = tourPayload('MeterSuspend', tenant.name, FIRST_METER);
    expect((await runCli(['tenant', 'set', tenant.code, '--disable'], operator)).code).toBe(0);

    expect(await call('MeterSuspend', payload, { code })).toMatchObject({ returnCode: 80003001 });
    expect(await call('MeterSuspend', payload, { code, url: `${platform.url}/disabled` })).toMatchObject({ returnCode: 80003004 });
  });

  it('calls a plaintext tenant with --plaintext, and says the answer was not encrypted', async () => {
    const tenant = await platform.createTenant({ code: 'plain', plaintext: true });
    const payload = tourPayload('MeterSuspend', tenant.name, FIRST_METER);

    const answered = await call('MeterSuspend', payload, { transport: 'soap', extra: ['--plaintext'] });
    expect(answered).toMatchObject({ returnCode: 80002013, verified: false });
  });

  it('refuses to call without a registration code, saying how to give one', async () => {
    const file = writePayload('no-code.json', '{}');
    const refused = await runCli(['call', 'MeterSuspend', file, '--url', platform.url], { CNMCSP_REGISTRATION_CODE: '' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('give the registration code with --code or CNMCSP_REGISTRATION_CODE');
  });
});
