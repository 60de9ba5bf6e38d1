/**
 * A .NET CIS as it really integrates: mono's `wsdl` generates the proxy from the live platform's
 * ?wsdl, `mcs` compiles a client in the call shape of spec §4.2, and the client opens, modifies,
 * suspends, resumes and closes an account, reading every code back (issue: platform skeleton).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { SPEC_EXAMPLES } from '../fixtures/spec-examples';
import { ClientRuntimeCrash, describeIfTools, isRuntimeCrash, retryAfterRuntimeCrash } from '../support/interop';
import { startTestPlatform } from '../support/test-platform';

const run = promisify(execFile);
const CLIENT_SOURCE = path.resolve(__dirname, '../../clients/csharp/PlaintextCaller.cs');

function runClient(directory: string, endpoint: string, lines: Array<[string, string]>): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('mono', ['PlaintextCaller.exe', endpoint], {
      cwd: directory,
      env: { ...process.env, LANG: 'C.UTF-8' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout.trim().split('\n'));
      else if (isRuntimeCrash(signal, stderr)) reject(new ClientRuntimeCrash('mono', signal, stdout, stderr));
      else reject(new Error(`client exited ${code}: ${stderr}`));
    });
    child.stdin.end(lines.map(([operation, payload]) => `${operation}\t${payload.trim()}`).join('\n') + '\n', 'utf8');
  });
}

describeIfTools(['mono', 'mcs', 'wsdl'], 'a C# CIS calling through the generated Web Reference proxy', () => {
  let directory: string;

  beforeAll(async () => {
    directory = mkdtempSync(path.join(tmpdir(), 'mono-cis-'));
    const platform = await startTestPlatform();
    try {
      await run('wsdl', ['-out:Proxy.cs', '-n:WebReference', `${platform.url}/WSI_MIDDataServices.asmx?wsdl`], {
        cwd: directory,
      });
    } finally {
      await platform.close();
    }
    await run('mcs', ['-r:System.Web.Services', '-codepage:utf8', '-out:PlaintextCaller.exe', 'Proxy.cs', CLIENT_SOURCE], {
      cwd: directory,
    });
  }, 180_000);

  afterAll(() => {
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  /** One run of the scenario on a platform of its own, so that a rerun starts from nothing. */
  async function openAndCloseAnAccount(): Promise<string[]> {
    const own = await startTestPlatform();
    try {
      await own.createTenant({ code: 'cangnan', name: '苍南仪表集团' });
      return await runClient(directory, `${own.url}/WSI_MIDDataServices.asmx`, [
        ['MeterAdd', SPEC_EXAMPLES.MeterAdd],
        ['MeterAdd', SPEC_EXAMPLES.MeterAdd],
        ['MeterModify', SPEC_EXAMPLES.MeterModify],
        ['MeterSuspend', SPEC_EXAMPLES.MeterSuspend],
        ['MeterSuspend', SPEC_EXAMPLES.MeterSuspend],
        ['MeterResume', SPEC_EXAMPLES.MeterResume],
        ['MeterSuspend', '{"UserID":"SOMEONE","MeterID":"012345678912","DataFrom":"苍南仪表集团"}'],
        ['MeterDelete', SPEC_EXAMPLES.MeterDelete],
        ['MeterResume', SPEC_EXAMPLES.MeterResume],
        ]);
    } finally {
      await own.close();
    }
  }

  it('opens, modifies, suspends, resumes and closes an account, and gets the refusals right', async () => {
    const lines = await retryAfterRuntimeCrash(openAndCloseAnAccount);

    const codes = lines.map((line) => line.split('|').slice(0, 2).join(' '));
    expect(codes).toEqual([
      'MeterAdd 0',
      'MeterAdd 80002009',
      'MeterModify 0',
      'MeterSuspend 0',
      'MeterSuspend 80002023',
      'MeterResume 0',
      'MeterSuspend 80002013',
      'MeterDelete 0',
      'MeterResume 80002023',
    ]);
    // The ref EncryptData comes back as the answer payload, whose ReturnCode equals OpResult.
    for (const line of lines) {
      const [, result, answer] = line.split('|');
      expect(JSON.parse(answer as string).ReturnCode).toBe(Number(result));
    }
    expect(lines[0]).toContain('接口功能执行成功');
  }, 120_000);
});
