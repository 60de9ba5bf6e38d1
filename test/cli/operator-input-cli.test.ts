import { runCli, type CliResult } from '../support/cli';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';

/**
 * Bad operator input: each refused command exits non-zero with one line naming the problem, and
 * leaves the database as it was.
 */
jest.setTimeout(180_000);

describe('the cnmcsp commands refuse bad input and store nothing', () => {
  let platform: TestPlatform;
  let operator: NodeJS.ProcessEnv;

  const cli = (...args: string[]) => runCli(args, operator);
  const count = async (sql: string, parameters: unknown[] = []) =>
    ((await platform.database.dataSource.query(sql, parameters)) as Array<{ n: number }>)[0]?.n;

  function expectRefused(result: CliResult, problem: string | RegExp): void {
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(problem);
  }

  beforeAll(async () => {
    platform = await startTestPlatform();
    operator = { DATABASE_URL: platform.database.url, PLATFORM_SECRET: platform.environment.PLATFORM_SECRET };
  });
  afterAll(async () => platform.close());

  it('refuses a rotation overlap beyond 30 days and keeps the current code', async () => {
    const tenant = await platform.createTenant({ code: 'encA', plaintext: false });
    expect((await cli('tenant', 'issue-code', tenant.code)).code).toBe(0);
    const before = await cli('tenant', 'codes', tenant.code);

    for (const overlap of ['99999999d', '31d', 'abc', '-1h']) {
      expectRefused(await cli('tenant', 'rotate-code', tenant.code, '--overlap', overlap), /--overlap/);
    }
    expect(await cli('tenant', 'codes', tenant.code)).toEqual(before);
    expect(await count('SELECT count(*)::int AS n FROM tenant_credential WHERE tenant_id = $1', [tenant.id])).toBe(1);

    const longest = await cli('tenant', 'rotate-code', tenant.code, '--overlap', '30d');
    expect(longest.code).toBe(0);
    expect(longest.stdout).toMatch(/keeps working until \d{4}-/);
  });

  it('refuses --enable with --disable, and a set that changes nothing', async () => {
    const tenant = await platform.createTenant({ code: 'setme', plaintext: false });

    expectRefused(await cli('tenant', 'set', tenant.code, '--enable', '--disable'), /--disable.*--enable|--enable.*--disable/);
    expectRefused(await cli('tenant', 'set', tenant.code), 'nothing to change');
    expectRefused(await cli('tenant', 'set', tenant.code, '--plaintext', 'maybe'), '--plaintext must be on or off');
    expect(await count(`SELECT count(*)::int AS n FROM tenant WHERE code = 'setme' AND status = 'active' AND NOT plaintext`)).toBe(1);
  });

  it('refuses gateway and command ids that are not ids, with no database error', async () => {
    for (const id of ['abc', '0', '-1', '99999999999']) {
      const refused = await cli('gateway', 'revoke', id);
      expectRefused(refused, "argument 'id'");
      expect(refused.stderr).not.toContain('invalid input syntax');
    }
    const huge = await cli('command', 'show', '99999999999999999999');
    expectRefused(huge, "argument 'id'");
    expect(huge.stderr).not.toContain('out of range');
  });

  it('refuses command list for an unknown tenant and a limit that is not a count', async () => {
    expectRefused(await cli('command', 'list', '--tenant', 'nosuch'), 'no tenant with code nosuch');
    for (const limit of ['abc', '-1', '0', '1.5']) {
      expectRefused(await cli('command', 'list', '--limit', limit), '--limit');
    }
    expect((await cli('command', 'list', '--limit', '5')).code).toBe(0);
  });

  it('refuses a malformed catalogue code and never rewrites an existing entry', async () => {
    const catalogue = 'SELECT (SELECT count(*) FROM meter_model) + (SELECT count(*) FROM meter_protocol) + (SELECT count(*) FROM dtu_type) AS n';
    const before = await count(catalogue);

    expectRefused(await cli('catalogue', 'add-model', ''), 'a catalogue code is 1 to 50');
    expectRefused(await cli('catalogue', 'add-dtu-type', 'x y'), 'a catalogue code is 1 to 50');
    expectRefused(await cli('catalogue', 'add-protocol', 'x'.repeat(51)), 'a catalogue code is 1 to 50');
    expectRefused(await cli('catalogue', 'add-model', 'CNMCPUJE'), 'has a model CNMCPUJE already');
    expect(await count(catalogue)).toBe(before);
    const [seeded] = await platform.database.dataSource.query(`SELECT description, remote_controllable FROM meter_model WHERE code = 'CNMCPUJE'`);
    expect(seeded).toEqual({ description: 'NB-IoT remote meter, meter-side billing', remote_controllable: true });

    expect((await cli('catalogue', 'add-model', 'LOCAL-1', '--not-remote')).code).toBe(0);
    expectRefused(await cli('catalogue', 'add-model', 'LOCAL-1'), 'has a model LOCAL-1 already');
    expect(await count(`SELECT count(*)::int AS n FROM meter_model WHERE code = 'LOCAL-1' AND NOT remote_controllable`)).toBe(1);
  });

  it('refuses a blank gateway name', async () => {
    await platform.createTenant({ code: 'named', plaintext: true });
    const before = await count('SELECT count(*)::int AS n FROM gateway');

    expectRefused(await cli('gateway', 'add', '--tenant', 'named', '--name', ''), '--name');
    expectRefused(await cli('gateway', 'add', '--tenant', 'named', '--name', '   '), '--name');
    expect(await count('SELECT count(*)::int AS n FROM gateway')).toBe(before);
  });

  it('refuses a bad simulator interval or fault before adding any gateway', async () => {
    await platform.createTenant({ code: 'simbad', plaintext: true });
    const simulate = (...args: string[]) => cli('simulate', '--tenant', 'simbad', '--url', platform.url, '--once', ...args);

    expectRefused(await simulate('--interval', 'abc'), '--interval');
    expectRefused(await simulate('--interval', '0'), '--interval');
    expectRefused(await simulate('--reject', 'M1'), 'M1 is not meterNo:kind');
    expectRefused(await simulate('--reject', 'M1:teleport'), 'unknown command kind teleport');
    expectRefused(await simulate('--battery-drain', '-1'), '--battery-drain');
    expect(await count(`SELECT count(*)::int AS n FROM gateway g JOIN tenant t ON t.id = g.tenant_id WHERE t.code = 'simbad'`)).toBe(0);
  });

  it('gives each simulate --tenant run a gateway of its own and revokes it at exit', async () => {
    await platform.createTenant({ code: 'simrun', plaintext: true });
    const simulate = () => cli('simulate', '--tenant', 'simrun', '--url', platform.url, '--once', '--interval', '0.5');

    for (const run of [await simulate(), await simulate()]) {
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/waking every 0\.5 s[\s\S]*gateway \d+ \(simulator .*\) revoked/);
    }
    const gateways = 'SELECT count(DISTINCT g.id)::int AS n FROM gateway g JOIN tenant t ON t.id = g.tenant_id WHERE t.code = $1';
    expect(await count(gateways, ['simrun'])).toBe(2);
    expect(await count(`${gateways} AND g.revoked_at IS NULL`, ['simrun'])).toBe(0);
  });

  it('refuses a bad port, delay or fail rate for the reference CIS receiver', async () => {
    // An accepted value would start a server that runs until interrupted.
    const receiver = (...args: string[]) => runCli(['cis-receiver', '--port', '0', ...args], operator, { timeoutMs: 20_000 });
    expectRefused(await receiver('--delay-ms', '-5'), '--delay-ms');
    expectRefused(await receiver('--port', 'abc'), '--port');
    expectRefused(await receiver('--port', '70000'), '--port');
    expectRefused(await receiver('--fail-rate', '2'), '--fail-rate');
  });
});
