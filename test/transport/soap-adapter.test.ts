/**
 * The SOAP adapter alone, over real HTTP: the router from src/transport/soap with a recording
 * handler in place of the platform (DECISIONS §2.1). End-to-end tests through the real platform
 * live elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import express from 'express';
import { XMLParser } from 'fast-xml-parser';
import iconv from 'iconv-lite';

import { OPERATION_NAMES } from '../../src/domain/operations';
import type { InboundMessage, OutboundMessage } from '../../src/transport/message';
import { createSoapRouter } from '../../src/transport/soap';
import { WsdlPublisher, loadWsdlTemplate } from '../../src/transport/soap/wsdl-document';
import { describeIfTools } from '../support/interop';

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';
const TEMPURI = 'http://tempuri.org/';
const ENDPOINT = '/WSI_MIDDataServices.asmx';
const BODY_LIMIT = 16 * 1024;

/** Non-empty strings with characters that need escaping, so the round trip is visible. */
const ANSWER: OutboundMessage = {
  returnCode: 80002013,
  encryptData: '{"ReturnCode":80002013,"ReturnMessage":"表具信息 与 用户信息 匹配失败 <&>"}',
  disperseKey: '3815092746153820',
  macValue: '7D71D4B825462534',
};

const received: InboundMessage[] = [];

async function recordingHandler(message: InboundMessage): Promise<OutboundMessage> {
  received.push(message);
  if (message.encryptData === 'THROW') throw new Error('secret internal detail');
  return ANSWER;
}

// ---------------------------------------------------------------------------------------------
// A server per configuration, on an ephemeral port.

interface TestServer {
  baseUrl: string;
  port: number;
  close(): Promise<void>;
}

async function startServer(settings: { publicUrl?: string; trustProxy?: boolean } = {}) {
  const { publicUrl, trustProxy = false } = settings;
  const router = createSoapRouter(recordingHandler, { bodyLimitBytes: BODY_LIMIT, publicUrl });
  await router.ready;
  const app = express();
  app.set('trust proxy', trustProxy);
  app.use(router);

  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const started: TestServer = {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return started;
}

let server: TestServer;
let withPublicUrl: TestServer;
let behindProxy: TestServer;

beforeAll(async () => {
  server = await startServer();
  withPublicUrl = await startServer({ publicUrl: 'https://gas.example.com/cnmcsp/' });
  behindProxy = await startServer({ trustProxy: true });
});

afterAll(async () => {
  await Promise.all([server.close(), withPublicUrl.close(), behindProxy.close()]);
});

beforeEach(() => {
  received.length = 0;
});

// ---------------------------------------------------------------------------------------------
// Raw HTTP, so that headers, chunking and bytes are exactly what a test says.

interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function httpRequest(
  method: string,
  pathAndQuery: string,
  body?: string | Buffer | Array<string | Buffer>,
  headers: Record<string, string> = {},
  target: TestServer = server,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const pieces = body === undefined ? [] : Array.isArray(body) ? body : [body];
    const request = http.request(
      { host: '127.0.0.1', port: target.port, method, path: pathAndQuery, headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text });
        });
      },
    );
    request.on('error', reject);
    void writePieces(request, pieces, Array.isArray(body));
  });
}

/** Pieces of an array body go out one by one, 30 ms apart, as separate chunks. */
async function writePieces(
  request: http.ClientRequest,
  pieces: Array<string | Buffer>,
  slow: boolean,
): Promise<void> {
  for (const piece of pieces) {
    request.write(piece);
    if (slow) await new Promise((resolve) => setTimeout(resolve, 30));
  }
  request.end();
}

function post(body: string | Buffer, headers: Record<string, string> = {}, pathName = ENDPOINT) {
  const withDefaults = { 'Content-Type': 'text/xml; charset=utf-8', ...headers };
  if (!('Transfer-Encoding' in withDefaults)) {
    Object.assign(withDefaults, { 'Content-Length': String(Buffer.byteLength(body)) });
  }
  return httpRequest('POST', pathName, body, withDefaults);
}

// ---------------------------------------------------------------------------------------------
// Requests as the tools write them.

interface Parameters {
  EncryptData?: string;
  DisperseKey?: string;
  MacValue?: string;
}

const SAMPLE: Required<Parameters> = {
  EncryptData: 'jdvlcmcCETq1hm+yGd/YwNkbxObo5fv48hgucwDktLIW4ohyrcrpTTub2e2cwU4X',
  DisperseKey: '3815092746153820',
  MacValue: '7D71D4B825462534',
};

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function children(parameters: Parameters, prefix = ''): string {
  return Object.entries(parameters)
    .map(([name, value]) => `<${prefix}${name}>${escapeXml(value as string)}</${prefix}${name}>`)
    .join('');
}

/** .NET's SoapHttpClientProtocol: the wrapper declares tempuri as the default namespace. */
function dotNetEnvelope(operation: string, parameters: Parameters = SAMPLE, version = '1.1') {
  const soap = version === '1.1' ? SOAP11 : SOAP12;
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    `<soap:Envelope xmlns:soap="${soap}" ` +
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema">' +
    `<soap:Body><${operation} xmlns="${TEMPURI}">${children(parameters)}</${operation}>` +
    '</soap:Body></soap:Envelope>'
  );
}

/** SoapUI: `tem:` declared on the Envelope, an empty Header, indented. */
function soapUiEnvelope(operation: string, parameters: Parameters = SAMPLE, version = '1.1') {
  const soap = version === '1.1' ? SOAP11 : SOAP12;
  return [
    `<soapenv:Envelope xmlns:soapenv="${soap}" xmlns:tem="${TEMPURI}">`,
    '   <soapenv:Header/>',
    '   <soapenv:Body>',
    `      <tem:${operation}>`,
    ...Object.entries(parameters).map(
      ([name, value]) => `         <tem:${name}>${escapeXml(value as string)}</tem:${name}>`,
    ),
    `      </tem:${operation}>`,
    '   </soapenv:Body>',
    '</soapenv:Envelope>',
  ].join('\n');
}

function contentTypeFor(version: '1.1' | '1.2', operation: string): Record<string, string> {
  return version === '1.1'
    ? { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${TEMPURI}${operation}"` }
    : { 'Content-Type': `application/soap+xml; charset=utf-8; action="${TEMPURI}${operation}"` };
}

// ---------------------------------------------------------------------------------------------
// Reading answers: a small namespace-aware tree over fast-xml-parser's ordered output.

interface XmlNode {
  namespace: string | undefined;
  localName: string;
  attributes: Record<string, string>;
  children: XmlNode[];
  text: string;
}

const orderedParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  trimValues: false,
});

function parseXml(xml: string): XmlNode {
  const document = orderedParser.parse(xml) as Array<Record<string, unknown>>;
  const roots = toNodes(document, new Map());
  expect(roots).toHaveLength(1);
  return roots[0];
}

function toNodes(items: Array<Record<string, unknown>>, scope: Map<string, string>): XmlNode[] {
  const nodes: XmlNode[] = [];
  for (const item of items) {
    const name = Object.keys(item).find((key) => key !== ':@');
    if (name === undefined || name.startsWith('#') || name.startsWith('?')) continue;

    const attributes = (item[':@'] ?? {}) as Record<string, string>;
    const inner = new Map(scope);
    for (const [attribute, value] of Object.entries(attributes)) {
      if (attribute === 'xmlns') inner.set('', value);
      if (attribute.startsWith('xmlns:')) inner.set(attribute.slice(6), value);
    }
    const content = item[name] as Array<Record<string, unknown>>;
    const colon = name.indexOf(':');
    nodes.push({
      namespace: inner.get(colon < 0 ? '' : name.slice(0, colon)),
      localName: name.slice(colon + 1),
      attributes,
      children: toNodes(content, inner),
      text: content.map((part) => (typeof part['#text'] === 'string' ? part['#text'] : '')).join(
        '',
      ),
    });
  }
  return nodes;
}

function child(node: XmlNode, localName: string): XmlNode {
  const found = node.children.find((candidate) => candidate.localName === localName);
  if (found === undefined) throw new Error(`no <${localName}> in <${node.localName}>`);
  return found;
}

function decodeEntities(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

/** The Body's single child of a SOAP answer, after checking the envelope's version. */
function bodyContent(answer: HttpAnswer, version: '1.1' | '1.2'): XmlNode {
  const envelope = parseXml(answer.text);
  expect(envelope.localName).toBe('Envelope');
  expect(envelope.namespace).toBe(version === '1.1' ? SOAP11 : SOAP12);
  const body = child(envelope, 'Body');
  expect(body.children).toHaveLength(1);
  return body.children[0];
}

function expectSoapHeaders(answer: HttpAnswer, version: '1.1' | '1.2') {
  const contentType = version === '1.1' ? 'text/xml' : 'application/soap+xml';
  expect(answer.headers['content-type']).toBe(`${contentType}; charset=utf-8`);
  expect(answer.headers['content-length']).toBe(String(Buffer.byteLength(answer.text)));
  expect(answer.headers['transfer-encoding']).toBeUndefined();
  expect(answer.headers['x-request-id']).toEqual(expect.any(String));
}

/** A normal response: `OpResult` first, then the three strings, all qualified by tempuri. */
function expectOperationResponse(answer: HttpAnswer, operation: string, version: '1.1' | '1.2') {
  expect(answer.status).toBe(200);
  expectSoapHeaders(answer, version);

  const wrapper = bodyContent(answer, version);
  expect(wrapper.localName).toBe(`${operation}Response`);
  expect(wrapper.namespace).toBe(TEMPURI);
  expect(wrapper.children.map((node) => node.localName)).toEqual([
    `${operation}Result`,
    'EncryptData',
    'DisperseKey',
    'MacValue',
  ]);
  for (const node of wrapper.children) expect(node.namespace).toBe(TEMPURI);

  const values = wrapper.children.map((node) => decodeEntities(node.text));
  expect(values).toEqual([
    String(ANSWER.returnCode),
    ANSWER.encryptData,
    ANSWER.disperseKey,
    ANSWER.macValue,
  ]);
}

interface ParsedFault {
  code: string;
  reason: string;
  requestId: string;
}

/** A fault of the given version, read the way that version spells it. */
function expectFault(answer: HttpAnswer, version: '1.1' | '1.2'): ParsedFault {
  expect(answer.status).toBe(500);
  expectSoapHeaders(answer, version);
  expect(answer.text).not.toMatch(/<html|\bat .+\.(js|ts):\d+/i);

  const fault = bodyContent(answer, version);
  expect(fault.localName).toBe('Fault');
  expect(fault.namespace).toBe(version === '1.1' ? SOAP11 : SOAP12);
  const detailId = (detail: XmlNode) => child(detail, 'RequestId').text;
  if (version === '1.1') {
    expect(fault.children.map((node) => node.localName)).toEqual([
      'faultcode',
      'faultstring',
      'detail',
    ]);
    expect(child(fault, 'faultcode').namespace).toBeUndefined();
    return {
      code: child(fault, 'faultcode').text,
      reason: decodeEntities(child(fault, 'faultstring').text),
      requestId: detailId(child(fault, 'detail')),
    };
  }

  expect(fault.children.map((node) => node.localName)).toEqual(['Code', 'Reason', 'Detail']);
  const text = child(child(fault, 'Reason'), 'Text');
  expect(text.attributes['xml:lang']).toBe('en');
  return {
    code: child(child(fault, 'Code'), 'Value').text,
    reason: decodeEntities(text.text),
    requestId: detailId(child(fault, 'Detail')),
  };
}

// ---------------------------------------------------------------------------------------------

describe('the WSDL', () => {
  test.each(['wsdl', 'WSDL', 'Wsdl'])(
    'is served at ?%s with the address rewritten to the URL the client used',
    async (query) => {
      const answer = await httpRequest('GET', `${ENDPOINT}?${query}`);

      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('text/xml; charset=utf-8');
      expect(answer.headers['content-length']).toBe(String(Buffer.byteLength(answer.text)));
      const addresses = [...answer.text.matchAll(/<soap(?:12)?:address location="([^"]*)"/g)];
      expect(addresses.map((match) => match[1])).toEqual([
        `${server.baseUrl}${ENDPOINT}`,
        `${server.baseUrl}${ENDPOINT}`,
      ]);
    },
  );

  test('of a tenant path names the tenant path as the address', async () => {
    const answer = await httpRequest('GET', `/CNM01${ENDPOINT}?wsdl`);

    expect(answer.text).toContain(`<soap:address location="${server.baseUrl}/CNM01${ENDPOINT}"`);
    expect(answer.text).toContain(`<soap12:address location="${server.baseUrl}/CNM01${ENDPOINT}"`);
  });

  test('names the configured public URL instead of the request host when one is set', async () => {
    const answer = await httpRequest('GET', `${ENDPOINT}?wsdl`, undefined, {}, withPublicUrl);

    const expected = `https://gas.example.com/cnmcsp${ENDPOINT}`;
    expect(answer.text).toContain(`<soap:address location="${expected}"`);
    expect(answer.text).toContain(`<soap12:address location="${expected}"`);
  });

  const forwarded = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'gas.example.com' };

  test('follows X-Forwarded-Proto and -Host when the app trusts its proxy', async () => {
    const answer = await httpRequest('GET', `${ENDPOINT}?wsdl`, undefined, forwarded, behindProxy);

    expect(answer.text).toContain(`<soap:address location="https://gas.example.com${ENDPOINT}"`);
  });

  test('ignores X-Forwarded-Proto and -Host when the app does not trust a proxy', async () => {
    const answer = await httpRequest('GET', `${ENDPOINT}?wsdl`, undefined, forwarded);

    expect(answer.text).toContain(`<soap:address location="${server.baseUrl}${ENDPOINT}"`);
  });

  test('stays well-formed whatever Host header the client sends', async () => {
    const answer = await httpRequest('GET', `${ENDPOINT}?wsdl`, undefined, {
      Host: 'evil.example"><x',
    });

    expect(answer.status).toBe(200);
    expect(answer.text).toContain(
      'location="http://evil.example&quot;&gt;&lt;x/WSI_MIDDataServices.asmx"',
    );
    expect(() => parseXml(answer.text)).not.toThrow();
  });

  test('describes all 13 operations in a SOAP 1.1 and a SOAP 1.2 binding', async () => {
    const definitions = parseXml((await httpRequest('GET', `${ENDPOINT}?wsdl`)).text);

    const bindings = definitions.children.filter((node) => node.localName === 'binding');
    expect(bindings.map((binding) => binding.attributes.name)).toEqual([
      'WSI_MIDDataServicesSoap',
      'WSI_MIDDataServicesSoap12',
    ]);
    for (const binding of bindings) {
      const operations = binding.children.filter((node) => node.localName === 'operation');
      expect(operations.map((operation) => operation.attributes.name)).toEqual(OPERATION_NAMES);
      for (const operation of operations) {
        const soapOperation = child(operation, 'operation');
        expect(soapOperation.attributes.soapAction).toBe(`${TEMPURI}${operation.attributes.name}`);
      }
    }
    const service = child(definitions, 'service');
    const ports = service.children.filter((node) => node.localName === 'port');
    expect(ports.map((port) => port.attributes.name)).toEqual([
      'WSI_MIDDataServicesSoap',
      'WSI_MIDDataServicesSoap12',
    ]);
  });

  test('is built once per address and then reused', () => {
    const publisher = new WsdlPublisher(loadWsdlTemplate());

    const first = publisher.documentFor('http://a.example/WSI_MIDDataServices.asmx');
    const again = publisher.documentFor('http://a.example/WSI_MIDDataServices.asmx');
    const other = publisher.documentFor('http://b.example/WSI_MIDDataServices.asmx');

    expect(again).toBe(first);
    expect(other).not.toBe(first);
  });

  test('a GET without ?wsdl points to it, and other methods are refused', async () => {
    const hint = await httpRequest('GET', ENDPOINT);
    const put = await httpRequest('PUT', ENDPOINT, 'x', { 'Content-Type': 'text/plain' });

    expect(hint.status).toBe(200);
    expect(hint.text).toContain('?wsdl');
    expect(put.status).toBe(405);
  });
});

describe('each operation', () => {
  const cases = OPERATION_NAMES.flatMap((operation) =>
    (['1.1', '1.2'] as const).map((version) => ({ operation, version })),
  );

  test.each(cases)(
    '$operation over SOAP $version reaches the handler and answers its result',
    async ({ operation, version }) => {
      const answer = await post(
        dotNetEnvelope(operation, SAMPLE, version),
        contentTypeFor(version, operation),
      );

      expectOperationResponse(answer, operation, version);
      expect(received).toEqual([
        {
          transport: version === '1.1' ? 'soap11' : 'soap12',
          operation,
          tenantCode: undefined,
          encryptData: SAMPLE.EncryptData,
          disperseKey: SAMPLE.DisperseKey,
          macValue: SAMPLE.MacValue,
          requestId: answer.headers['x-request-id'],
          remoteAddress: expect.stringContaining('127.0.0.1'),
        },
      ]);
    },
  );
});

describe('requests as real clients send them', () => {
  test('SoapUI: a tem: prefixed wrapper, an empty Header, indentation', async () => {
    const answer = await post(soapUiEnvelope('MeterAdd'), contentTypeFor('1.1', 'MeterAdd'));

    expectOperationResponse(answer, 'MeterAdd', '1.1');
    expect(received[0]).toMatchObject({ operation: 'MeterAdd', ...lowerKeys(SAMPLE) });
  });

  test('SoapUI over SOAP 1.2', async () => {
    const envelope = soapUiEnvelope('ControlValve', SAMPLE, '1.2');
    const answer = await post(envelope, contentTypeFor('1.2', 'ControlValve'));

    expectOperationResponse(answer, 'ControlValve', '1.2');
    expect(received[0]).toMatchObject({ transport: 'soap12', operation: 'ControlValve' });
  });

  test('.NET: the wrapper declares tempuri as its default namespace', async () => {
    const answer = await post(dotNetEnvelope('Recharge'), {
      'Content-Type': 'text/xml; charset=utf-8',
      SOAPAction: '"http://tempuri.org/Recharge"',
    });

    expectOperationResponse(answer, 'Recharge', '1.1');
    expect(received[0]).toMatchObject({ operation: 'Recharge', ...lowerKeys(SAMPLE) });
  });

  test('an omitted parameter reaches the handler as an empty string', async () => {
    const { EncryptData, MacValue } = SAMPLE;
    const answer = await post(dotNetEnvelope('MeterDelete', { EncryptData, MacValue }));

    expectOperationResponse(answer, 'MeterDelete', '1.1');
    expect(received[0]).toMatchObject({
      encryptData: EncryptData,
      disperseKey: '',
      macValue: MacValue,
    });
  });

  test('an empty wrapper reaches the handler with three empty strings', async () => {
    const answer = await post(dotNetEnvelope('MeterResume', {}));

    expectOperationResponse(answer, 'MeterResume', '1.1');
    expect(received[0]).toMatchObject({ encryptData: '', disperseKey: '', macValue: '' });
  });

  test('an xsi:nil="true" parameter reaches the handler as an empty string', async () => {
    const envelope = dotNetEnvelope('MeterSuspend', { EncryptData: 'e', MacValue: 'm' }).replace(
      '<MacValue>',
      '<DisperseKey xsi:nil="true" /><MacValue>',
    );
    const answer = await post(envelope);

    expectOperationResponse(answer, 'MeterSuspend', '1.1');
    expect(received[0]).toMatchObject({ encryptData: 'e', disperseKey: '', macValue: 'm' });
  });

  test('SOAP 1.2 with the action only in the Content-Type is answered in SOAP 1.2', async () => {
    const answer = await post(dotNetEnvelope('ReadCurrentData', SAMPLE, '1.2'), {
      'Content-Type': `application/soap+xml;charset=UTF-8;action="${TEMPURI}ReadCurrentData"`,
    });

    expectOperationResponse(answer, 'ReadCurrentData', '1.2');
    expect(received[0]).toMatchObject({ transport: 'soap12', operation: 'ReadCurrentData' });
  });

  test('a body declared GB2312 in the Content-Type is decoded as GB2312', async () => {
    const payload = '{"UserID":"KYNYN144860","DataFrom":"苍南仪表集团"}';
    const envelope = dotNetEnvelope('MeterAdd', { EncryptData: payload }).replace(
      'encoding="utf-8"',
      'encoding="GB2312"',
    );
    const answer = await post(iconv.encode(envelope, 'gb2312'), {
      'Content-Type': 'text/xml; charset=GB2312',
    });

    expectOperationResponse(answer, 'MeterAdd', '1.1');
    expect(received[0].encryptData).toBe(payload);
  });

  test('a body declared GBK only in its XML declaration is decoded as GBK', async () => {
    const payload = '{"DataFrom":"苍南仪表集团","Address":"浙江省温州市"}';
    const envelope = dotNetEnvelope('MeterModify', { EncryptData: payload }).replace(
      'encoding="utf-8"',
      'encoding="GBK"',
    );
    const answer = await post(iconv.encode(envelope, 'gbk'), { 'Content-Type': 'text/xml' });

    expectOperationResponse(answer, 'MeterModify', '1.1');
    expect(received[0].encryptData).toBe(payload);
  });

  test('a UTF-8 byte order mark is skipped', async () => {
    const body = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(dotNetEnvelope('ChangePrice', { EncryptData: '中文' }), 'utf8'),
    ]);
    const answer = await post(body);

    expectOperationResponse(answer, 'ChangePrice', '1.1');
    expect(received[0].encryptData).toBe('中文');
  });

  test('a request sent in several chunks, with pauses, is read whole', async () => {
    const envelope = Buffer.from(soapUiEnvelope('BatchChangePrice'), 'utf8');
    const pieces = [0, 40, 41, 150, 151].map((start, index, starts) =>
      envelope.subarray(start, starts[index + 1] ?? envelope.length),
    );
    const answer = await httpRequest('POST', ENDPOINT, pieces, {
      'Content-Type': 'text/xml; charset=utf-8',
      'Transfer-Encoding': 'chunked',
    });

    expectOperationResponse(answer, 'BatchChangePrice', '1.1');
    expect(received[0]).toMatchObject({ operation: 'BatchChangePrice', ...lowerKeys(SAMPLE) });
  });

  test('parameters arrive exactly as sent: whitespace, entities and CDATA', async () => {
    const envelope = dotNetEnvelope('RemainOption', { DisperseKey: '  12 34  ' }).replace(
      '<DisperseKey>',
      '<EncryptData><![CDATA[{"a":"<b>"}]]></EncryptData><MacValue>x &amp; &#20013;</MacValue>' +
        '<DisperseKey>',
    );
    const answer = await post(envelope);

    expectOperationResponse(answer, 'RemainOption', '1.1');
    expect(received[0]).toMatchObject({
      encryptData: '{"a":"<b>"}',
      disperseKey: '  12 34  ',
      macValue: 'x & 中',
    });
  });

  test('the tenant code of the path reaches the handler', async () => {
    const answer = await post(dotNetEnvelope('CancelRecharge'), {}, `/CNM01${ENDPOINT}`);

    expectOperationResponse(answer, 'CancelRecharge', '1.1');
    expect(received[0].tenantCode).toBe('CNM01');
  });

  test('the Body decides the operation, whatever the SOAPAction says', async () => {
    const answer = await post(dotNetEnvelope('MeterChange'), {
      SOAPAction: '"http://tempuri.org/MeterAdd"',
    });

    expectOperationResponse(answer, 'MeterChange', '1.1');
    expect(received[0].operation).toBe('MeterChange');
  });

  test('the caller’s X-Request-Id is sanitised, used and echoed', async () => {
    const answer = await post(dotNetEnvelope('MeterAdd'), { 'X-Request-Id': 'cis-42 <x>;' });

    expect(answer.headers['x-request-id']).toBe('cis-42x');
    expect(received[0].requestId).toBe('cis-42x');
  });

  test('a long X-Request-Id is cut to 64 characters', async () => {
    const answer = await post(dotNetEnvelope('MeterAdd'), { 'X-Request-Id': 'a'.repeat(100) });

    expect(answer.headers['x-request-id']).toBe('a'.repeat(64));
  });

  test('without an X-Request-Id a UUID is made up and echoed', async () => {
    const answer = await post(dotNetEnvelope('MeterAdd'));

    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/);
    expect(received[0].requestId).toBe(answer.headers['x-request-id']);
  });
});

describe('faults', () => {
  test('malformed XML is a soap:Client fault naming the problem', async () => {
    const answer = await post('<soap:Envelope xmlns:soap="' + SOAP11 + '"><soap:Body>', {
      'X-Request-Id': 'req-1',
    });

    const fault = expectFault(answer, '1.1');
    expect(fault).toEqual({
      code: 'soap:Client',
      reason: expect.stringMatching(/^Malformed XML/),
      requestId: 'req-1',
    });
    expect(received).toEqual([]);
  });

  test('malformed XML sent as application/soap+xml is a SOAP 1.2 soap:Sender fault', async () => {
    const answer = await post('<not xml', { 'Content-Type': 'application/soap+xml' });

    expect(expectFault(answer, '1.2').code).toBe('soap:Sender');
  });

  test('XML that only node-soap’s stricter parser refuses is still our client fault', async () => {
    const envelope = dotNetEnvelope('MeterAdd', { EncryptData: 'x' }, '1.2').replace(
      '>x<',
      '>&undefined;<',
    );
    const answer = await post(envelope, contentTypeFor('1.2', 'MeterAdd'));

    const fault = expectFault(answer, '1.2');
    expect(fault.code).toBe('soap:Sender');
    expect(fault.reason).toMatch(/^Malformed XML/);
    expect(received).toEqual([]);
  });

  test('elements nested deeper than the parser builds are a client fault, not a server failure', async () => {
    const depth = 150;
    const nested = '<a>'.repeat(depth) + 'x' + '</a>'.repeat(depth);
    const envelope = dotNetEnvelope('MeterSuspend', { EncryptData: 'x' }).replace('>x<', `>${nested}<`);
    const answer = await post(envelope);

    const fault = expectFault(answer, '1.1');
    expect(fault.code).toBe('soap:Client');
    expect(fault.reason).toMatch(/^Malformed XML: .*nested/i);
    expect(received).toEqual([]);
  });

  test.each(['1.1', '1.2'] as const)(
    'an unknown operation is a client fault in SOAP %s',
    async (version) => {
      const answer = await post(
        dotNetEnvelope('MeterExplode', SAMPLE, version),
        contentTypeFor(version, 'MeterExplode'),
      );

      const fault = expectFault(answer, version);
      expect(fault.code).toBe(version === '1.1' ? 'soap:Client' : 'soap:Sender');
      expect(fault.reason).toContain('Unknown operation "MeterExplode"');
      expect(received).toEqual([]);
    },
  );

  test('an operation element outside the tempuri namespace is a client fault', async () => {
    const envelope = dotNetEnvelope('MeterAdd').replace(
      `xmlns="${TEMPURI}"`,
      'xmlns="http://example.com/"',
    );
    const answer = await post(envelope);

    const fault = expectFault(answer, '1.1');
    expect(fault.reason).toContain('{http://example.com/}MeterAdd is not an operation');
  });

  test('a charset nobody knows is a client fault', async () => {
    const answer = await post(dotNetEnvelope('MeterAdd'), {
      'Content-Type': 'text/xml; charset=x-mars',
    });

    expect(expectFault(answer, '1.1').reason).toBe('Unsupported charset "x-mars"');
  });

  test('an empty body is a client fault', async () => {
    const answer = await post('');

    expect(expectFault(answer, '1.1').reason).toContain('empty');
  });

  test('XML that is not a SOAP envelope is a client fault', async () => {
    const answer = await post('<?xml version="1.0"?><MeterAdd xmlns="http://tempuri.org/"/>');

    expect(expectFault(answer, '1.1').reason).toContain('Not a SOAP envelope');
  });

  test('an envelope without a Body is a client fault of its version', async () => {
    const answer = await post(`<e:Envelope xmlns:e="${SOAP12}"><e:Header/></e:Envelope>`);

    expect(expectFault(answer, '1.2').reason).toBe('The SOAP envelope has no Body');
  });

  test('an empty Body is a client fault', async () => {
    const answer = await post(`<e:Envelope xmlns:e="${SOAP11}"><e:Body> </e:Body></e:Envelope>`);

    expect(expectFault(answer, '1.1').reason).toContain('Body is empty');
  });

  test('a document type declaration is refused', async () => {
    const envelope = dotNetEnvelope('MeterAdd').replace('?>', '?><!DOCTYPE x [<!ENTITY e "e">]>');
    const answer = await post(envelope);

    expect(expectFault(answer, '1.1').reason).toContain('document type declaration');
  });

  test('a body over the limit is a client fault with HTTP 500', async () => {
    const big = dotNetEnvelope('MeterAdd', { EncryptData: 'A'.repeat(BODY_LIMIT) });
    const answer = await post(big, { 'X-Request-Id': 'big-1' });

    const fault = expectFault(answer, '1.1');
    expect(fault).toEqual({
      code: 'soap:Client',
      reason: `The request body exceeds the limit of ${BODY_LIMIT} bytes`,
      requestId: 'big-1',
    });
    expect(received).toEqual([]);
  });

  test('a chunked body over the limit is a client fault too', async () => {
    const big = dotNetEnvelope('MeterAdd', { EncryptData: 'A'.repeat(BODY_LIMIT) });
    const answer = await httpRequest('POST', ENDPOINT, [big.slice(0, 100), big.slice(100)], {
      'Content-Type': 'application/soap+xml; charset=utf-8',
      'Transfer-Encoding': 'chunked',
    });

    expect(expectFault(answer, '1.2').reason).toContain('exceeds the limit');
  });

  const exceptionCases = [
    { version: '1.1', code: 'soap:Server' },
    { version: '1.2', code: 'soap:Receiver' },
  ] as const;

  test.each(exceptionCases)(
    'an exception in the handler is a SOAP $version $code fault that leaks nothing',
    async ({ version, code }) => {
      const answer = await post(dotNetEnvelope('MeterAdd', { EncryptData: 'THROW' }, version), {
        ...contentTypeFor(version, 'MeterAdd'),
        'X-Request-Id': 'boom-1',
      });

      const fault = expectFault(answer, version);
      const reason = 'The service failed unexpectedly';
      expect(fault).toEqual({ code, reason, requestId: 'boom-1' });
      expect(answer.text).not.toContain('secret internal detail');
    },
  );
});

describeIfTools(['xmllint'], 'responses against the WSDL schema (xmllint)', () => {
  let directory: string;
  let schemaFile: string;

  beforeAll(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'soap-schema-'));
    schemaFile = path.join(directory, 'tempuri.xsd');
    writeFileSync(schemaFile, schemaOfWsdl(readFileSync(wsdlFile(), 'utf8')));
  });

  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  test.each(['1.1', '1.2'] as const)('a SOAP %s response validates', async (version) => {
    const answer = await post(
      dotNetEnvelope('MeterAdd', SAMPLE, version),
      contentTypeFor(version, 'MeterAdd'),
    );

    const validation = xmllint(schemaFile, bodyXml(answer.text), directory);
    expect(validation).toEqual({ status: 0, output: expect.stringContaining('validates') });
  });

  test('a response with OpResult out of place would not (the check has teeth)', () => {
    const wrong =
      `<MeterAddResponse xmlns="${TEMPURI}"><EncryptData>e</EncryptData>` +
      '<MeterAddResult>0</MeterAddResult></MeterAddResponse>';

    expect(xmllint(schemaFile, wrong, directory).status).not.toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------

function lowerKeys(parameters: Required<Parameters>) {
  return {
    encryptData: parameters.EncryptData,
    disperseKey: parameters.DisperseKey,
    macValue: parameters.MacValue,
  };
}

function wsdlFile(): string {
  return path.resolve(__dirname, '../../wsdl/WSI_MIDDataServices.wsdl');
}

/** The WSDL's `<s:schema>`, standing alone: it needs the `s` prefix the WSDL declares above it. */
function schemaOfWsdl(wsdl: string): string {
  const match = /<s:schema[\s\S]*<\/s:schema>/.exec(wsdl);
  if (match === null) throw new Error('no <s:schema> in the WSDL');
  return match[0].replace('<s:schema', '<s:schema xmlns:s="http://www.w3.org/2001/XMLSchema"');
}

/** The Body's content, as its own document; node-soap declares its namespace on the wrapper. */
function bodyXml(envelope: string): string {
  const match = /<soap:Body>([\s\S]*)<\/soap:Body>/.exec(envelope);
  if (match === null) throw new Error('no soap:Body in the answer');
  return match[1];
}

function xmllint(schemaFile: string, xml: string, directory: string) {
  const documentFile = path.join(directory, 'document.xml');
  writeFileSync(documentFile, xml);
  const run = spawnSync('xmllint', ['--noout', '--schema', schemaFile, documentFile], {
    encoding: 'utf8',
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}
