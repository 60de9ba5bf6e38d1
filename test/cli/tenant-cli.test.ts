import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { restCall } from '../support/cis-client';
import { startChildPlatform } from '../support/child-platform';
import { runCli } from '../support/cli';

/** Tenants are configured with the CLI and stored in the database (embedded or not). */
describe('the tenant commands on the embedded database', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnmcsp-cli-'));
  const environment = { DATA_DIR: dataDir, DATABASE_URL: '' };
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('adds a tenant through a running platform, which serves it at once', async () => {
    const platform = await startChildPlatform({ ...environment, DEMO_TENANT: 'off' });
    try {
      const added = await runCli(
        ['tenant', 'add', '--code', 'gas2', '--name', '第二燃气公司', '--plaintext', '--billing', 'system'],
        environment,
      );
      expect(added.stderr).toBe('');
      expect(added).toMatchObject({ code: 0, stdout: 'tenant gas2 (第二燃气公司) added\n' });

      const payload = '{"UserID":"U9","MeterID":"M9","DataFrom":"第二燃气公司"}';
      const answer = await restCall(platform.url, '/rest/Standard/meter/meterSuspend', payload);
      expect(answer.json.ReturnCode).toBe(80002013);
    } finally {
      await platform.stop();
    }
  }, 180_000);

  it('lists and changes tenants with no platform running', async () => {
    expect((await runCli(['tenant', 'set', 'gas2', '--plaintext', 'off'], environment)).code).toBe(0);
    const listed = await runCli(['tenant', 'list'], environment);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/'gas2'.*'第二燃气公司'.*'system'.*false/);
  }, 180_000);

  it('refuses a malformed tenant and says what is wrong', async () => {
    const refused = await runCli(['tenant', 'add', '--code', 'bad code!', '--name', 'x'], environment);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('a tenant code is 1 to 50 letters, digits');
    const badMode = await runCli(['tenant', 'add', '--code', 'ok', '--name', 'x', '--billing', 'both'], environment);
    expect(badMode.stderr).toContain('--billing must be meter or system');

    await runCli(['tenant', 'add', '--code', 'first', '--name', '同名燃气'], environment);
    const sameName = await runCli(['tenant', 'add', '--code', 'second', '--name', '同名燃气'], environment);
    expect(sameName.code).toBe(1);
    expect(sameName.stderr).toContain('a tenant named 同名燃气 exists already');
    expect(sameName.stderr).not.toContain('duplicate key');
    const sameCode = await runCli(['tenant', 'add', '--code', 'first', '--name', '别的燃气'], environment);
    expect(sameCode.stderr).toContain('a tenant with code first exists already');
  }, 180_000);
});
