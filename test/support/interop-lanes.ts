/**
 * The frame of every client interop file: a real platform (startTestPlatform, real HTTP, real
 * database) behind a recording proxy, a plaintext tenant and an encrypted one, and per client
 * "lane" (one client in one SOAP version, or REST) and mode the story of interop-scenario.ts, one
 * test per operation. Every call is judged three ways, and its cell of the matrix recorded:
 *
 * - the client's own report: OpResult, the answer it read, and in encrypted mode whether it
 *   verified the answer's MAC and decrypted it with its own crypto;
 * - the raw exchange the proxy kept: the request in the lane's SOAP version and, in encrypted
 *   mode, encrypted by the client; the answer through every check of wire-checks.ts, and opened
 *   again here with the platform's crypto module to compare with what the client decrypted;
 * - the answer's content against the story (ReturnCode 0 and what the operation returns).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { OPERATIONS, type OperationName } from '../../src/domain/operations';
import { ReturnCode } from '../../src/domain/return-codes';
import { parseRegistrationCode, verifyAndDecrypt } from '../../src/security/message-crypto';
import {
  describeIfPresent,
  missingRequirements,
  type ClientAnswer,
  type InteropClient,
  type Requirement,
} from './interop-clients';
import { MatrixRecorder, MODES, OPEN_ISSUES, type Cell, type Mode } from './interop-matrix';
import { AccountScenario, SCENARIO_ORDER, successProblems } from './interop-scenario';
import { startRecordingProxy, type RecordedExchange, type RecordingProxy } from './recording-proxy';
import { createKeyedTenant } from './tenant-keys';
import { startTestPlatform, type TestPlatform } from './test-platform';
import { ENVELOPE_NAMESPACES, WireChecker, type SoapVersion } from './wire-checks';

export type LaneTransport = 'soap11' | 'soap12' | 'rest';

/** The two tenants of every client file: DataFrom is the tenant's name (DECISIONS §3.6). */
export const TENANTS: Record<Mode, { code: string; name: string }> = {
  plaintext: { code: 'cangnan', name: '苍南仪表集团' },
  encrypted: { code: 'longgang', name: '龙港燃气有限公司' },
};

export const SOAP_PATH = '/WSI_MIDDataServices.asmx';

export interface PreparedFile {
  /** The platform's address as the clients see it (the recording proxy). */
  baseUrl: string;
  endpointUrl: string;
  wsdlUrl: string;
  /** A scratch folder for generated and compiled code, removed afterwards. */
  work: string;
}

export interface LaneContext extends PreparedFile {
  mode: Mode;
  /** The tenant's name, the payloads' DataFrom. */
  dataFrom: string;
  /** The encrypted tenant's registration code; '' in plaintext mode. */
  registrationCode: string;
  restUrl(operation: OperationName): string;
  /** The exchanges the proxy kept since the last take (for startTourClient). */
  takeExchanges(): RecordedExchange[];
}

export interface Lane {
  columnId: string;
  title: string;
  transport: LaneTransport;
  /**
   * Per mode; true when the client tells its own story (its own payloads and order, e.g. a
   * sample program): its answers are then held to success, not to this file's story.
   */
  ownStory?(mode: Mode): boolean;
  start(context: LaneContext): InteropClient | Promise<InteropClient>;
}

export interface InteropFileOptions {
  /** The matrix's name of the file (test/interop/<file>.test.ts). */
  file: string;
  title: string;
  requirements: readonly Requirement[];
  /** Once per file, before any lane starts: generate and compile the client. */
  prepare?(prepared: PreparedFile): Promise<void>;
  lanes: readonly Lane[];
}

export function restUrlFor(baseUrl: string, operation: OperationName): string {
  const restPath = OPERATIONS.find((candidate) => candidate.name === operation)?.restPath ?? '';
  return `${baseUrl}/rest/Standard${restPath}`;
}

export function describeInteropClient(options: InteropFileOptions): void {
  const matrix = new MatrixRecorder(options.file);
  const missing = missingRequirements(options.requirements);
  const notRun: Cell = { state: 'not-run', note: `missing ${missing.join(', ')}` };
  if (missing.length > 0) {
    for (const lane of options.lanes) {
      for (const mode of MODES) {
        for (const operation of SCENARIO_ORDER) matrix.cell(lane.columnId, mode, operation, notRun);
      }
    }
  }
  afterAll(() => matrix.save());

  describeIfPresent(missing, options.title, () => {
    let platform: TestPlatform;
    let proxy: RecordingProxy;
    let checker: WireChecker;
    let prepared: PreparedFile;
    let registrationCode = '';

    beforeAll(async () => {
      platform = await startTestPlatform();
      await platform.createTenant({ ...TENANTS.plaintext, plaintext: true });
      ({ code: registrationCode } = await createKeyedTenant(platform, TENANTS.encrypted));

      proxy = await startRecordingProxy(platform.url);
      const endpointUrl = `${proxy.url}${SOAP_PATH}`;
      const work = mkdtempSync(path.join(tmpdir(), `cnmcsp-${options.file}-`));
      prepared = { baseUrl: proxy.url, endpointUrl, wsdlUrl: `${endpointUrl}?wsdl`, work };
      checker = new WireChecker(await (await fetch(prepared.wsdlUrl)).text());
      await options.prepare?.(prepared);
      proxy.take();
    }, 300_000);

    afterAll(async () => {
      checker?.close();
      await proxy?.close();
      await platform?.close();
      if (prepared) rmSync(prepared.work, { recursive: true, force: true });
    });

    options.lanes.forEach((lane, index) => {
      for (const mode of MODES) {
        describe(`${lane.title}, ${mode}`, () => {
          const scenario = new AccountScenario(index + 1, mode, TENANTS[mode].name);
          let client: InteropClient | undefined;
          let startFailure = '';

          beforeAll(async () => {
            const context: LaneContext = {
              ...prepared,
              mode,
              dataFrom: TENANTS[mode].name,
              registrationCode: mode === 'encrypted' ? registrationCode : '',
              restUrl: (operation) => restUrlFor(prepared.baseUrl, operation),
              takeExchanges: () => proxy.take(),
            };
            try {
              client = await lane.start(context);
            } catch (error) {
              startFailure = `the client did not start: ${(error as Error).message}`;
            }
            proxy.take();
          }, 120_000);

          afterAll(async () => {
            await client?.close();
          });

          for (const operation of SCENARIO_ORDER) {
            test(operation, async () => {
              const judgement = { proxy, checker, lane, mode, operation, scenario, registrationCode };
              const cell = client
                ? await callAndJudge({ client, ...judgement })
                : { state: 'fail' as const, note: startFailure };
              matrix.cell(lane.columnId, mode, operation, cell);
              if (cell.state === 'fail') {
                throw new Error(`${lane.title}, ${mode}, ${operation}: ${cell.note}`);
              }
            }, 90_000);
          }
        });
      }
    });
  });
}

interface Judgement {
  client: InteropClient;
  proxy: RecordingProxy;
  checker: WireChecker;
  lane: Lane;
  mode: Mode;
  operation: OperationName;
  scenario: AccountScenario;
  registrationCode: string;
}

async function callAndJudge(judgement: Judgement): Promise<Cell> {
  const { client, proxy, lane, mode, operation, scenario } = judgement;
  const payload = scenario.payloadFor(operation);
  proxy.take();

  let answer: ClientAnswer;
  try {
    answer = await client.call(operation, payload);
  } catch (error) {
    return { state: 'fail', note: (error as Error).message };
  }
  const posts = answer.exchange
    ? [answer.exchange]
    : proxy.take().filter((exchange) => exchange.method === 'POST');
  if (answer.kind.startsWith('fault')) return { state: 'fail', note: `the client failed: ${answer.kind}` };
  if (posts.length !== 1) return { state: 'fail', note: `${posts.length} requests went out for one call` };

  const exchange = posts[0] as RecordedExchange;
  const problems: string[] = [];
  const sentDisperseKey = requestProblems(exchange, judgement, answer, problems);
  const opened = openAnswer(exchange, judgement, { ...answer, sentDisperseKey }, problems);
  if (opened === undefined) return { state: 'fail', note: problems.join('; ') };

  const waiting = waitingOn(opened, mode, answer);
  if (waiting !== undefined && problems.length === 0) return { state: 'waiting', note: waiting };
  const contentProblems = lane.ownStory?.(mode)
    ? successProblems(operation, opened.json)
    : scenario.check(operation, opened.json);
  problems.push(...contentProblems);
  return problems.length === 0 ? { state: 'pass' } : { state: 'fail', note: problems.join('; ') };
}

/** 80009001 is the platform saying "not built yet"; which issue depends on where it came from. */
function waitingOn(opened: OpenedAnswer, mode: Mode, answer: ClientAnswer): string | undefined {
  if (opened.json.ReturnCode !== ReturnCode.NotSupportedYet) return undefined;
  if (mode === 'encrypted' && answer.kind === 'plain') return OPEN_ISSUES.encryption;
  return OPEN_ISSUES.operations;
}

/**
 * The request went out in the lane's envelope and, in encrypted mode, encrypted by the client
 * under a DisperseKey of 16 digits, which is returned; in plaintext mode with the JSON in clear.
 */
function requestProblems(
  exchange: RecordedExchange,
  judgement: Judgement,
  answer: ClientAnswer,
  problems: string[],
): string {
  const { lane, mode } = judgement;
  const body = exchange.requestBody.toString('utf8');
  const version = soapVersionOf(lane.transport);
  if (version !== undefined && !body.includes(ENVELOPE_NAMESPACES[version])) {
    problems.push(`the request is not a SOAP ${version} envelope`);
  }

  const carried =
    version === undefined
      ? headerValue(exchange.requestHeaders.dispersekey)
      : (/<(?:[\w.-]+:)?DisperseKey(?:\s[^>]*)?>([^<]*)</.exec(body)?.[1] ?? '');
  // Every payload of the stories names a UserID; a ciphertext cannot spell it.
  if (mode === 'plaintext') {
    if (!body.includes('UserID')) problems.push('the plaintext request does not carry the payload');
    return '';
  }
  if (body.includes('UserID')) problems.push('the request carries the payload in clear');
  if (!/^[0-9]{16}$/.test(carried)) problems.push(`the request's DisperseKey "${carried}" is not 16 digits`);
  if (answer.sentDisperseKey !== '' && answer.sentDisperseKey !== carried) {
    problems.push('the request does not carry the DisperseKey the client drew');
  }
  return carried;
}

function headerValue(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

interface OpenedAnswer {
  json: Record<string, unknown>;
}

/**
 * The answer as the platform sent it, checked on the wire and opened here independently of the
 * client: plaintext as is, encrypted with the platform's own crypto module. It must equal what
 * the client made of it, and OpResult (SOAP) must equal the ReturnCode inside.
 */
function openAnswer(
  exchange: RecordedExchange,
  judgement: Judgement,
  answer: ClientAnswer,
  problems: string[],
): OpenedAnswer | undefined {
  const { checker, lane, mode, operation, registrationCode } = judgement;
  const wire = { status: exchange.status, headers: exchange.responseHeaders, body: exchange.responseBody };
  const version = soapVersionOf(lane.transport);

  let text: string;
  let disperseKey: string;
  let macValue: string;
  let opResult: number | undefined;
  if (version !== undefined) {
    const checked = checker.checkSoap(wire, operation, version);
    problems.push(...checked.problems);
    if (checked.values === undefined) return undefined;
    ({ encryptData: text, disperseKey, macValue } = checked.values);
    opResult = checked.values.result;
    if (answer.result !== opResult) {
      problems.push(`the client read OpResult ${answer.result}, the wire says ${opResult}`);
    }
  } else {
    const checked = checker.checkRest(wire);
    problems.push(...checked.problems);
    if (checked.values === undefined) return undefined;
    ({ body: text, disperseKey, macValue } = checked.values);
    if (answer.result !== exchange.status) {
      problems.push(`the client read HTTP ${answer.result}, the wire says ${exchange.status}`);
    }
  }

  const encryptedAnswer = disperseKey !== '' || macValue !== '';
  if (encryptedAnswer) {
    if (mode === 'plaintext') return fail(problems, 'a plaintext request got an encrypted answer');
    if (answer.kind !== 'verified') {
      return fail(problems, `the client did not verify the answer: ${answer.kind}`);
    }
    if (disperseKey === answer.sentDisperseKey) problems.push('the answer reuses the request\'s DisperseKey');
    try {
      text = verifyAndDecrypt(parseRegistrationCode(registrationCode), disperseKey, text, macValue);
    } catch (error) {
      return fail(problems, `the answer does not open with the tenant's code: ${(error as Error).message}`);
    }
  } else if (answer.kind !== 'plain') {
    return fail(problems, `the client says ${answer.kind} of a plaintext answer`);
  }
  if (answer.payload !== text) problems.push(`the client read ${answer.payload}, the platform sent ${text}`);

  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return fail(problems, `the answer is not strict JSON: ${text.slice(0, 200)}`);
  }
  if (opResult !== undefined && json.ReturnCode !== opResult) {
    problems.push(`OpResult ${opResult} but ReturnCode ${String(json.ReturnCode)}`);
  }
  return { json };
}

function fail(problems: string[], problem: string): undefined {
  problems.push(problem);
  return undefined;
}

export function soapVersionOf(transport: LaneTransport): SoapVersion | undefined {
  if (transport === 'soap11') return '1.1';
  if (transport === 'soap12') return '1.2';
  return undefined;
}
