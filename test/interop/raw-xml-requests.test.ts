/**
 * Requests as real tools write them, sent byte for byte to the running platform (real HTTP, real
 * database), each a business call that must succeed: SoapUI's `tem:`-prefixed children, .NET's
 * default-namespace wrapper, omitted and xsi:nil (null) parameters, SOAP 1.2 with the action only
 * in the Content-Type, bodies declared as GB2312, a byte order mark, a body in chunks, encrypted
 * ones, and REST with other charsets and path cases. Every answer goes through the wire checks
 * (wire-checks.ts). The results fill the raw-request table of docs/interop-matrix.md.
 *
 * The adapter's own handling of such envelopes is tested without the platform in
 * test/transport/soap-adapter.test.ts; here the same shapes reach the services and the database.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import iconv from 'iconv-lite';

import type { OperationName } from '../../src/domain/operations';
import { describeIfPresent, missingRequirements, tool } from '../support/interop-clients';
import { TENANTS } from '../support/interop-lanes';
import { MatrixRecorder, type Cell } from '../support/interop-matrix';
import { SUCCESS_MESSAGE } from '../support/interop-scenario';
import {
  dotNetEnvelope,
  openRawAnswer,
  parametersFor,
  sendRaw,
  soapUiEnvelope,
  type RawRequest,
  type SoapParameters,
} from '../support/raw-calls';
import { createKeyedTenant } from '../support/tenant-keys';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';
import { WireChecker, type SoapVersion, type WireAnswer } from '../support/wire-checks';

const SOAP = '/WSI_MIDDataServices.asmx';
const DOTNET_AGENT = 'Mozilla/4.0 (compatible; MSIE 6.0; MS Web Services Client Protocol 4.0.30319.42000)';
const SOAPUI_AGENT = 'Apache-HttpClient/4.5.5 (Java/16.0.1)';
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

const plaintextTenant = TENANTS.plaintext.name;
const encryptedTenant = TENANTS.encrypted.name;

/** The accounts the cases work on: A in UTF-8, B in GB2312, C in the encrypted tenant. */
const A = { UserID: 'RAWU0001', MeterID: '099000000001' };
const B = { UserID: 'RAWU0002', MeterID: '099000000002' };
const C = { UserID: 'RAWU0003', MeterID: '099000000003' };

type Account = typeof A;

function meterAdd(account: Account, dataFrom: string, names: { UserName: string; BuildingName: string }): string {
  return JSON.stringify({
    ...account,
    ...names,
    MeterNo: account.MeterID,
    PreSaving: '0',
    MeterParamModel: 'CNMCPUJE',
    MeterProtocol: 'CNModbusV61',
    PriceID: '5021',
    PriceMode: '100',
    MonthCount: '12',
    Price1: 3.2,
    DataFrom: dataFrom,
  });
}

const account = (which: Account, dataFrom = plaintextTenant) => JSON.stringify({ ...which, DataFrom: dataFrom });

interface RawCase {
  name: string;
  operation: OperationName;
  transport: SoapVersion | 'rest';
  payload: string;
  encrypted?: boolean;
  request(parameters: SoapParameters, payload: string): RawRequest;
  /** Further checks once the call succeeded, e.g. what reached the database. */
  after?(platform: TestPlatform, json: Record<string, unknown>): Promise<string[]>;
}

const soap11Headers = (operation: string, contentType = 'text/xml; charset=utf-8') => ({
  'Content-Type': contentType,
  SOAPAction: `"http://tempuri.org/${operation}"`,
});
const soap12ContentType = (operation: string) =>
  `application/soap+xml; charset=utf-8; action="http://tempuri.org/${operation}"`;

const utf8 = (text: string) => Buffer.from(text, 'utf8');

async function storedUserName(platform: TestPlatform, userId: string): Promise<string | undefined> {
  const rows = (await platform.database.dataSource.query('SELECT user_name FROM customer WHERE user_id = $1', [
    userId,
  ])) as Array<{ user_name: string }>;
  return rows[0]?.user_name;
}

const userNameIs = (userId: string, expected: string) => async (platform: TestPlatform) => {
  const stored = await storedUserName(platform, userId);
  return stored === expected ? [] : [`the database holds UserName ${String(stored)}, not ${expected}`];
};

const CASES: RawCase[] = [
  {
    name: 'SoapUI, SOAP 1.1: `tem:`-prefixed children, empty Header, comments and indentation',
    operation: 'MeterAdd',
    transport: '1.1',
    payload: meterAdd(A, plaintextTenant, { UserName: '原始请求用户', BuildingName: '1栋' }),
    request: (parameters) => ({
      path: SOAP,
      headers: { ...soap11Headers('MeterAdd', 'text/xml;charset=UTF-8'), 'User-Agent': SOAPUI_AGENT },
      pieces: [utf8(soapUiEnvelope('1.1', 'MeterAdd', parameters))],
    }),
  },
  {
    name: 'SoapUI, SOAP 1.2: the action only in the Content-Type, no SOAPAction header',
    operation: 'MeterSuspend',
    transport: '1.2',
    payload: account(A),
    request: (parameters) => ({
      path: SOAP,
      headers: {
        'Content-Type': 'application/soap+xml;charset=UTF-8;action="http://tempuri.org/MeterSuspend"',
        'User-Agent': SOAPUI_AGENT,
      },
      pieces: [utf8(soapUiEnvelope('1.2', 'MeterSuspend', parameters))],
    }),
  },
  {
    name: '.NET Web Reference, SOAP 1.1: default-namespace wrapper, xsi/xsd declared, Expect: 100-continue',
    operation: 'MeterResume',
    transport: '1.1',
    payload: account(A),
    request: (parameters) => ({
      path: SOAP,
      headers: { ...soap11Headers('MeterResume'), 'User-Agent': DOTNET_AGENT, Expect: '100-continue' },
      pieces: [utf8(dotNetEnvelope('1.1', 'MeterResume', parameters))],
    }),
  },
  {
    name: '.NET, null parameters omitted (no DisperseKey, no MacValue element)',
    operation: 'MeterModify',
    transport: '1.1',
    payload: JSON.stringify({ ...A, UserName: '原始请求用户（改）', DataFrom: plaintextTenant }),
    request: (parameters) => ({
      path: SOAP,
      headers: { ...soap11Headers('MeterModify'), 'User-Agent': DOTNET_AGENT },
      pieces: [utf8(dotNetEnvelope('1.1', 'MeterModify', { EncryptData: parameters.EncryptData }))],
    }),
    after: userNameIs(A.UserID, '原始请求用户（改）'),
  },
  {
    name: 'null parameters as `xsi:nil="true"` (Java and PHP toolkits)',
    operation: 'MeterSuspend',
    transport: '1.1',
    payload: account(A),
    request: (parameters) => ({
      path: SOAP,
      headers: soap11Headers('MeterSuspend'),
      pieces: [
        utf8(
          dotNetEnvelope('1.1', 'MeterSuspend', { EncryptData: parameters.EncryptData }).replace(
            '</EncryptData>',
            '</EncryptData><DisperseKey xsi:nil="true"/><MacValue xsi:nil="true"/>',
          ),
        ),
      ],
    }),
  },
  {
    name: '.NET, SOAP 1.2 (`SoapVersion = Soap12`): the action in the Content-Type',
    operation: 'MeterResume',
    transport: '1.2',
    payload: account(A),
    request: (parameters) => ({
      path: SOAP,
      headers: { 'Content-Type': soap12ContentType('MeterResume'), 'User-Agent': DOTNET_AGENT },
      pieces: [utf8(dotNetEnvelope('1.2', 'MeterResume', parameters))],
    }),
  },
  {
    name: 'a UTF-8 byte order mark before the XML declaration (Notepad, `new UTF8Encoding(true)`)',
    operation: 'MeterSuspend',
    transport: '1.1',
    payload: account(A),
    request: (parameters) => ({
      path: SOAP,
      headers: soap11Headers('MeterSuspend'),
      pieces: [BOM, utf8(dotNetEnvelope('1.1', 'MeterSuspend', parameters))],
    }),
  },
  {
    name: 'the body in chunks (Transfer-Encoding: chunked), cut inside a multi-byte character',
    operation: 'MeterResume',
    transport: '1.1',
    payload: account(A),
    request: (parameters) => {
      const body = utf8(dotNetEnvelope('1.1', 'MeterResume', parameters));
      const inside = body.indexOf(utf8('苍')) + 1;
      return {
        path: SOAP,
        headers: soap11Headers('MeterResume'),
        pieces: [0, 40, inside, inside + 7].map((start, index, starts) => body.subarray(start, starts[index + 1])),
        chunked: true,
      };
    },
  },
  {
    name: 'a body declared as GB2312 (Content-Type charset and XML declaration), Chinese text in GB2312',
    operation: 'MeterAdd',
    transport: '1.1',
    payload: meterAdd(B, plaintextTenant, { UserName: '张三丰', BuildingName: '灵溪镇3栋' }),
    request: (parameters) => ({
      path: SOAP,
      headers: soap11Headers('MeterAdd', 'text/xml; charset=gb2312'),
      pieces: [iconv.encode(dotNetEnvelope('1.1', 'MeterAdd', parameters, 'gb2312'), 'gb2312')],
    }),
    after: userNameIs(B.UserID, '张三丰'),
  },
  {
    name: 'GB2312 declared only in the XML declaration (Content-Type without charset)',
    operation: 'MeterModify',
    transport: '1.1',
    payload: JSON.stringify({ ...B, UserName: '李四', DataFrom: plaintextTenant }),
    request: (parameters) => ({
      path: SOAP,
      headers: soap11Headers('MeterModify', 'text/xml'),
      pieces: [iconv.encode(dotNetEnvelope('1.1', 'MeterModify', parameters, 'gb2312'), 'gb2312')],
    }),
    after: userNameIs(B.UserID, '李四'),
  },
  {
    name: 'SoapUI, SOAP 1.1: ReadCurrentData for two accounts',
    operation: 'ReadCurrentData',
    transport: '1.1',
    payload: JSON.stringify({ Meters: [A, B], DataFrom: plaintextTenant }),
    request: (parameters) => ({
      path: SOAP,
      headers: soap11Headers('ReadCurrentData', 'text/xml;charset=UTF-8'),
      pieces: [utf8(soapUiEnvelope('1.1', 'ReadCurrentData', parameters))],
    }),
    after: async (_platform, json) => {
      const readings = json.ReadingData as Array<Record<string, unknown>> | undefined;
      const named = (readings ?? []).map((reading) => `${String(reading.UserID)}/${String(reading.MeterID)}`);
      const expected = [`${A.UserID}/${A.MeterID}`, `${B.UserID}/${B.MeterID}`];
      return named.join(' ') === expected.join(' ') ? [] : [`ReadingData names [${named.join(', ')}]`];
    },
  },
  {
    name: 'SoapUI, SOAP 1.1, encrypted: `tem:` children carrying EncryptData, DisperseKey and MacValue',
    operation: 'MeterAdd',
    transport: '1.1',
    encrypted: true,
    payload: meterAdd(C, encryptedTenant, { UserName: '加密用户', BuildingName: '2栋' }),
    request: (parameters) => ({
      path: SOAP,
      headers: soap11Headers('MeterAdd', 'text/xml;charset=UTF-8'),
      pieces: [utf8(soapUiEnvelope('1.1', 'MeterAdd', parameters))],
    }),
  },
  {
    name: '.NET, SOAP 1.2, encrypted, with a byte order mark',
    operation: 'MeterSuspend',
    transport: '1.2',
    encrypted: true,
    payload: account(C, encryptedTenant),
    request: (parameters) => ({
      path: SOAP,
      headers: { 'Content-Type': soap12ContentType('MeterSuspend'), 'User-Agent': DOTNET_AGENT },
      pieces: [BOM, utf8(dotNetEnvelope('1.2', 'MeterSuspend', parameters))],
    }),
  },
  {
    name: 'REST, a body declared GBK in the Content-Type',
    operation: 'MeterSuspend',
    transport: 'rest',
    payload: account(B),
    request: (_parameters, payload) => ({
      path: '/rest/Standard/meter/meterSuspend',
      headers: { 'Content-Type': 'text/html;charset=GBK', DisperseKey: '', MacValue: '' },
      pieces: [iconv.encode(payload, 'gbk')],
    }),
  },
  {
    name: 'REST, the path in another case (`/rest/standard/METER/METERRESUME`)',
    operation: 'MeterResume',
    transport: 'rest',
    payload: account(B),
    request: (_parameters, payload) => ({
      path: '/rest/standard/METER/METERRESUME',
      headers: { 'Content-Type': 'text/html;charset=utf-8', DisperseKey: '', MacValue: '' },
      pieces: [utf8(payload)],
    }),
  },
  {
    name: 'REST, `application/json` without charset, no DisperseKey and MacValue headers at all',
    operation: 'MeterDelete',
    transport: 'rest',
    payload: account(B),
    request: (_parameters, payload) => ({
      path: '/rest/Standard/meter/meterDelete',
      headers: { 'Content-Type': 'application/json' },
      pieces: [utf8(payload)],
    }),
  },
  {
    name: 'REST, encrypted: the body is EncryptData, DisperseKey and MacValue in headers, in chunks',
    operation: 'MeterResume',
    transport: 'rest',
    encrypted: true,
    payload: account(C, encryptedTenant),
    request: (parameters) => {
      const body = utf8(parameters.EncryptData ?? '');
      return {
        path: '/rest/Standard/meter/meterResume',
        headers: {
          'Content-Type': 'text/html;charset=utf-8',
          DisperseKey: parameters.DisperseKey ?? '',
          MacValue: parameters.MacValue ?? '',
        },
        pieces: [body.subarray(0, 10), body.subarray(10)],
        chunked: true,
      };
    },
  },
];

const matrix = new MatrixRecorder('raw-xml-requests');
const missing = missingRequirements([tool('xmllint')]);
if (missing.length > 0) {
  const notRun: Cell = { state: 'not-run', note: `missing ${missing.join(', ')}` };
  for (const rawCase of CASES) matrix.rawCase(rawCase.name, notRun);
}
afterAll(() => matrix.save());

describeIfPresent(missing, 'requests as tools write them, sent raw to the running platform', () => {
  let platform: TestPlatform;
  let checker: WireChecker;
  let registrationCode = '';

  beforeAll(async () => {
    platform = await startTestPlatform();
    await platform.createTenant({ ...TENANTS.plaintext, plaintext: true });
    ({ code: registrationCode } = await createKeyedTenant(platform, TENANTS.encrypted));
    checker = new WireChecker(await (await fetch(`${platform.url}${SOAP}?wsdl`)).text());
  }, 120_000);

  afterAll(async () => {
    checker?.close();
    await platform?.close();
  });

  for (const rawCase of CASES) {
    test(rawCase.name, async () => {
      const cell = await run(rawCase);
      matrix.rawCase(rawCase.name, cell);
      if (cell.state === 'fail') throw new Error(cell.note);
    });
  }

  async function run(rawCase: RawCase): Promise<Cell> {
    const code = rawCase.encrypted ? registrationCode : undefined;
    const request = rawCase.request(parametersFor(rawCase.payload, code), rawCase.payload);
    const answer = await sendRaw(platform.url, request);
    const opened = openRawAnswer(checker, answer, rawCase.transport, rawCase.operation, code);
    if (opened.json === undefined) return { state: 'fail', note: opened.problems.join('; ') };
    if (opened.json.ReturnCode === 80009001 && opened.problems.length === 0) {
      return { state: 'waiting', note: rawCase.encrypted && !opened.encrypted ? 'issue 4' : 'issue 3' };
    }

    const problems = [...opened.problems];
    if (rawCase.encrypted && !opened.encrypted) problems.push('an encrypted request got a plaintext answer');
    if (opened.json.ReturnCode !== 0 || opened.json.ReturnMessage !== SUCCESS_MESSAGE) {
      problems.push(`ReturnCode ${String(opened.json.ReturnCode)}: ${String(opened.json.ReturnMessage)}`);
    } else if (rawCase.after) {
      problems.push(...(await rawCase.after(platform, opened.json)));
    }
    return problems.length === 0 ? { state: 'pass' } : { state: 'fail', note: problems.join('; ') };
  }
});

/** The checks every interop answer goes through must refuse what DECISIONS §2.1 forbids. */
describeIfPresent(missing, 'the wire checks refuse what they should', () => {
  let checker: WireChecker;
  const wsdl = readFileSync(path.resolve(__dirname, '../../wsdl/WSI_MIDDataServices.wsdl'), 'utf8');
  const result = '<MeterAddResult>0</MeterAddResult>';
  const encryptData = '<EncryptData>{}</EncryptData>';
  const good =
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>' +
    `<MeterAddResponse xmlns="http://tempuri.org/">${result}${encryptData}` +
    '<DisperseKey></DisperseKey><MacValue></MacValue></MeterAddResponse></soap:Body></soap:Envelope>';
  const problemsOf = (wire: WireAnswer, version: SoapVersion = '1.1') =>
    checker.checkSoap(wire, 'MeterAdd', version).problems;
  const answer = (body: string, headers: Record<string, string> = {}): WireAnswer => ({
    status: 200,
    headers: {
      'content-type': 'text/xml; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    },
    body: Buffer.from(body, 'utf8'),
  });

  beforeAll(() => {
    checker = new WireChecker(wsdl);
  });
  afterAll(() => checker.close());

  test('a correct SOAP 1.1 answer passes', () => {
    expect(problemsOf(answer(good))).toEqual([]);
  });

  test('children out of the sequence order fail, also for the schema', () => {
    const swapped = good.replace(`${result}${encryptData}`, `${encryptData}${result}`);
    expect(problemsOf(answer(swapped))).toEqual([
      expect.stringMatching(/children are \[EncryptData, MeterAddResult/),
      expect.stringMatching(/not valid against the WSDL schema: .*EncryptData': This element is not expected/),
    ]);
  });

  test('a Content-Type without charset, chunking, a wrong length and the other envelope version fail', () => {
    expect(problemsOf(answer(good, { 'content-type': 'text/xml' }))).toEqual([
      expect.stringContaining('Content-Type "text/xml"'),
    ]);
    const chunked = { 'content-length': '', 'transfer-encoding': 'chunked' } as Record<string, string>;
    expect(problemsOf(answer(good, chunked))).toEqual(['no Content-Length', 'Transfer-Encoding chunked']);
    expect(problemsOf(answer(good, { 'content-length': '3' }))).toEqual([expect.stringContaining('Content-Length 3')]);
    expect(problemsOf(answer(good), '1.2').join(' ')).toMatch(/not a SOAP 1.2 Envelope/);
  });

  test('XML that is not well-formed, or an OpResult that is no s:int, fails', () => {
    expect(problemsOf(answer(good.replace('</MacValue>', ''))).join(' ')).toMatch(/not well-formed/);
    expect(problemsOf(answer(good.replace('>0<', '>zero<')))).toEqual([
      expect.stringMatching(/not an s:int/),
      expect.stringMatching(/not valid against the WSDL schema: .*'zero' is not a valid value of .*'xs:int'/),
    ]);
  });
});
