/**
 * The request examples of spec §5.3.1 to §5.3.13 (test/fixtures/spec-examples.ts), exactly as the
 * spec prints them, quirks included (unquoted keys, `price3`, numbers as strings), replayed over
 * SOAP 1.1 (in a .NET-style envelope) and over REST, in plaintext (the text itself) and encrypted
 * (the same text encrypted), against the running platform. Each must succeed.
 *
 * The examples share one account and one tenant name, 苍南仪表集团, and cannot all succeed in
 * one tenant: RemainOption repeats Recharge's TradeNo (a repeat is refused, DECISIONS §5.4), and
 * MeterChange's new meter 012345678919 is BatchChangePrice's second meter. So they run as two
 * stories, each in a fresh tenant of that name (the previous one renamed and disabled):
 *
 * - the account's life: MeterAdd, MeterModify, MeterSuspend, MeterResume, Recharge,
 *   CancelRecharge, ChangePrice, BatchChangePrice, ControlValve, ReadCurrentData, MeterDelete,
 *   with the other accounts that BatchChangePrice and ReadCurrentData name opened beforehand;
 * - money back and a new meter: MeterAdd, RemainOption, MeterChange.
 */
import { OPERATION_NAMES, type OperationName } from '../../src/domain/operations';
import { SPEC_EXAMPLES } from '../fixtures/spec-examples';
import { describeIfPresent, missingRequirements, tool } from '../support/interop-clients';
import { restUrlFor, SOAP_PATH } from '../support/interop-lanes';
import { MatrixRecorder, MODES, OPEN_ISSUES, type Cell, type Mode } from '../support/interop-matrix';
import { SUCCESS_MESSAGE } from '../support/interop-scenario';
import { dotNetEnvelope, openRawAnswer, parametersFor, sendRaw } from '../support/raw-calls';
import { createKeyedTenant } from '../support/tenant-keys';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';
import { WireChecker } from '../support/wire-checks';

const TENANT_NAME = '苍南仪表集团';

type Transport = 'soap11' | 'rest';
const COLUMNS: Record<Transport, string> = { soap11: 'spec-soap11', rest: 'spec-rest' };

/** Accounts some examples name besides KYNYN144860/012345678912, opened before them. */
const OTHER_ACCOUNTS: Partial<Record<OperationName, Array<{ UserID: string; MeterID: string }>>> = {
  BatchChangePrice: [{ UserID: 'KYNYN144869', MeterID: '012345678919' }],
  ReadCurrentData: [{ UserID: 'KYNYN144866', MeterID: '012345678916' }],
};

const STORIES: OperationName[][] = [
  [
    'MeterAdd',
    'MeterModify',
    'MeterSuspend',
    'MeterResume',
    'Recharge',
    'CancelRecharge',
    'ChangePrice',
    'BatchChangePrice',
    'ControlValve',
    'ReadCurrentData',
    'MeterDelete',
  ],
  ['MeterAdd', 'RemainOption', 'MeterChange'],
];

/** What a successful answer carries beyond ReturnCode 0. */
function contentProblems(operation: OperationName, json: Record<string, unknown>): string[] {
  if (operation !== 'ReadCurrentData') return [];
  const readings = (json.ReadingData ?? []) as Array<Record<string, unknown>>;
  const named = readings.map((reading) => `${String(reading.UserID)}/${String(reading.MeterID)}`).join(' ');
  return named === 'KYNYN144860/012345678912 KYNYN144866/012345678916' ? [] : [`ReadingData names ${named}`];
}

const matrix = new MatrixRecorder('spec-examples-replay');
const missing = missingRequirements([tool('xmllint')]);
if (missing.length > 0) {
  const notRun: Cell = { state: 'not-run', note: `missing ${missing.join(', ')}` };
  for (const transport of Object.keys(COLUMNS) as Transport[]) {
    for (const mode of MODES) {
      for (const operation of OPERATION_NAMES) matrix.cell(COLUMNS[transport], mode, operation, notRun);
    }
  }
}
afterAll(() => matrix.save());

describeIfPresent(missing, 'the spec examples, replayed verbatim', () => {
  let platform: TestPlatform;
  let checker: WireChecker;
  let tenants = 0;

  beforeAll(async () => {
    platform = await startTestPlatform();
    checker = new WireChecker(await (await fetch(`${platform.url}${SOAP_PATH}?wsdl`)).text());
  }, 120_000);

  afterAll(async () => {
    checker?.close();
    await platform?.close();
  });

  /** A fresh tenant named 苍南仪表集团, the only active one; its registration code in encrypted mode. */
  async function freshTenant(mode: Mode): Promise<string | undefined> {
    if (tenants > 0) {
      const previous = `spec${tenants}`;
      const rename = 'UPDATE tenant SET name = $1 WHERE code = $2';
      await platform.database.dataSource.query(rename, [`已替换${tenants}`, previous]);
      await platform.tenants.update(previous, { disabled: true });
    }
    tenants += 1;
    const tenant = { code: `spec${tenants}`, name: TENANT_NAME };
    if (mode === 'encrypted') return (await createKeyedTenant(platform, tenant)).code;
    await platform.createTenant({ ...tenant, plaintext: true });
    return undefined;
  }

  /** `code`: the tenant's registration code in encrypted mode, undefined in plaintext. */
  async function call(transport: Transport, operation: OperationName, payload: string, code?: string) {
    const parameters = parametersFor(payload, code);
    const answer =
      transport === 'soap11'
        ? await sendRaw(platform.url, {
            path: SOAP_PATH,
            headers: {
              'Content-Type': 'text/xml; charset=utf-8',
              SOAPAction: `"http://tempuri.org/${operation}"`,
            },
            pieces: [Buffer.from(dotNetEnvelope('1.1', operation, parameters), 'utf8')],
          })
        : await sendRaw(platform.url, {
            path: new URL(restUrlFor('', operation), 'http://x').pathname,
            headers: {
              'Content-Type': 'text/html;charset=utf-8',
              DisperseKey: parameters.DisperseKey ?? '',
              MacValue: parameters.MacValue ?? '',
            },
            pieces: [Buffer.from(parameters.EncryptData ?? '', 'utf8')],
          });
    return openRawAnswer(checker, answer, transport === 'soap11' ? '1.1' : 'rest', operation, code);
  }

  async function openOtherAccounts(transport: Transport, operation: OperationName, code?: string): Promise<void> {
    for (const other of OTHER_ACCOUNTS[operation] ?? []) {
      const example = JSON.parse(SPEC_EXAMPLES.MeterAdd) as Record<string, unknown>;
      const names = { UserName: other.UserID, MeterNo: other.MeterID, GprsDTU: other.MeterID };
      const payload = JSON.stringify({ ...example, ...other, ...names });
      const opened = await call(transport, 'MeterAdd', payload, code);
      if (opened.json?.ReturnCode !== 0) {
        throw new Error(`could not open ${other.UserID}: ${JSON.stringify(opened)}`);
      }
    }
  }

  for (const transport of Object.keys(COLUMNS) as Transport[]) {
    for (const mode of MODES) {
      STORIES.forEach((story, index) => {
        describe(`over ${transport === 'soap11' ? 'SOAP 1.1' : 'REST'}, ${mode}, story ${index + 1}`, () => {
          let code: string | undefined;

          beforeAll(async () => {
            code = await freshTenant(mode);
          });

          for (const operation of story) {
            // MeterAdd opens both stories; the matrix shows the first.
            const recorded = !(index > 0 && operation === 'MeterAdd');
            test(`${operation}${recorded ? '' : ' (opening the second story)'}`, async () => {
              const cell = await replay(transport, mode, operation, code);
              if (recorded) matrix.cell(COLUMNS[transport], mode, operation, cell);
              if (cell.state === 'fail') throw new Error(cell.note);
            });
          }
        });
      });
    }
  }

  async function replay(transport: Transport, mode: Mode, operation: OperationName, code?: string): Promise<Cell> {
    try {
      await openOtherAccounts(transport, operation, code);
    } catch (error) {
      if (!/80009001/.test((error as Error).message)) return { state: 'fail', note: (error as Error).message };
    }

    const opened = await call(transport, operation, SPEC_EXAMPLES[operation], code);
    if (opened.json === undefined) return { state: 'fail', note: opened.problems.join('; ') };
    if (opened.json.ReturnCode === 80009001 && opened.problems.length === 0) {
      const encryptionMissing = mode === 'encrypted' && !opened.encrypted;
      return { state: 'waiting', note: encryptionMissing ? OPEN_ISSUES.encryption : OPEN_ISSUES.operations };
    }

    const problems = [...opened.problems];
    if (mode === 'encrypted' && !opened.encrypted) problems.push('an encrypted request got a plaintext answer');
    if (opened.json.ReturnCode !== 0 || opened.json.ReturnMessage !== SUCCESS_MESSAGE) {
      problems.push(`ReturnCode ${String(opened.json.ReturnCode)}: ${String(opened.json.ReturnMessage)}`);
    } else {
      problems.push(...contentProblems(operation, opened.json));
    }
    return problems.length === 0 ? { state: 'pass' } : { state: 'fail', note: problems.join('; ') };
  }
});
