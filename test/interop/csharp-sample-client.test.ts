/**
 * clients/csharp/SampleClient.cs as a .NET CIS team builds it: mono's `wsdl` generates the Web
 * Reference proxy from the live platform's ?wsdl, mcs compiles it with CnmcspCrypto.cs, and the
 * sample runs all 13 operations encrypted, in the call shape of spec §4.2. Skipped with a
 * warning where mono is missing, a failure when CNMCSP_REQUIRE_INTEROP=1.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseRegistrationCode } from '../../src/security/message-crypto';
import { describeIfTools, retryAfterRuntimeCrash, runMono } from '../support/interop';
import { ACCOUNT_OPERATIONS, isSpecCode, TOUR } from '../support/operation-tour';
import { countRows } from '../support/row-counts';
import { createKeyedTenant } from '../support/tenant-keys';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';

const run = promisify(execFile);
const SOURCES = path.join(__dirname, '..', '..', 'clients', 'csharp');

interface PrintedCall {
  operation: string;
  iRet: number;
  trust: string;
  answer: { ReturnCode: number; ReturnMessage: string };
}

describeIfTools(['mono', 'mcs', 'wsdl'], 'the C# sample client (clients/csharp/SampleClient.cs)', () => {
  let platform: TestPlatform;
  let directory: string;
  let registrationCode: string;

  /** Runs the compiled sample; one parsed line per call. */
  async function runSample(code: string, on: TestPlatform = platform): Promise<PrintedCall[]> {
    const endpoint = `${on.url}/WSI_MIDDataServices.asmx`;
    const stdout = await runMono(['SampleClient.exe', code, endpoint, '苍南仪表集团'], { cwd: directory });
    return stdout
      .trimEnd()
      .split('\n')
      .map((line) => {
        const [operation, iRet, trust, answer] = line.split('\t') as [string, string, string, string];
        return { operation, iRet: Number(iRet), trust, answer: JSON.parse(answer) as PrintedCall['answer'] };
      });
  }

  beforeAll(async () => {
    platform = await startTestPlatform();
    ({ code: registrationCode } = await createKeyedTenant(platform, { code: 'cangnan', name: '苍南仪表集团' }));
    directory = mkdtempSync(path.join(tmpdir(), 'cnmcsp-sample-client-'));

    // Asynchronous on purpose: the tool fetches the WSDL from this very process.
    await run('wsdl', ['-out:Proxy.cs', '-n:WebReference', `${platform.url}/WSI_MIDDataServices.asmx?wsdl`], { cwd: directory });
    const sources = [path.join(SOURCES, 'SampleClient.cs'), path.join(SOURCES, 'CnmcspCrypto.cs'), 'Proxy.cs'];
    await run('mcs', ['-r:System.Web.Services', '-codepage:utf8', '-out:SampleClient.exe', ...sources], { cwd: directory });
  }, 180_000);

  afterAll(async () => {
    await platform?.close();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('runs all 13 operations encrypted; every answer verifies and carries a spec code', async () => {
    // The tour opens and closes one account, so a rerun after a crash of mono starts from nothing.
    let attempt = 0;
    let toured = platform;
    const calls = await retryAfterRuntimeCrash(async () => {
      attempt += 1;
      if (attempt === 1) return runSample(registrationCode);
      toured = await startTestPlatform();
      const { code } = await createKeyedTenant(toured, { code: 'cangnan', name: '苍南仪表集团' });
      return runSample(code, toured);
    });

    expect(calls.map((call) => call.operation)).toEqual(TOUR);
    for (const call of calls) {
      expect([call.operation, call.trust]).toEqual([call.operation, 'verified']);
      expect(call.answer.ReturnCode).toBe(call.iRet);
      expect(isSpecCode(call.iRet)).toBe(true);
      if (ACCOUNT_OPERATIONS.has(call.operation as never)) expect([call.operation, call.iRet]).toEqual([call.operation, 0]);
    }
    const [meter] = await toured.database.dataSource.query(`SELECT state FROM meter ORDER BY id DESC LIMIT 1`);
    expect(meter).toEqual({ state: -2 });
    if (toured !== platform) await toured.close();
  }, 180_000);

  it('is refused with 80003001, in plaintext and with nothing stored, under a wrong registration code', async () => {
    const wrongCode = 'FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210';
    expect(parseRegistrationCode(wrongCode)).toBeDefined();
    const before = await countRows(platform.database.dataSource);

    const calls = await retryAfterRuntimeCrash(() => runSample(wrongCode));

    expect(calls).toHaveLength(13);
    for (const call of calls) expect(call).toMatchObject({ iRet: 80003001, trust: 'plain', answer: { ReturnCode: 80003001 } });
    expect(await countRows(platform.database.dataSource)).toEqual(before);
  }, 180_000);
});
