/**
 * One push on the wire to the CIS (spec §6; docs/cis-push.md): REST JSON or SOAP, encrypted per
 * DECISIONS §3 when keys are given, and the CIS's answer read back as a ReturnCode.
 *
 * - REST: `POST url`, `Content-Type: text/html;charset=utf-8` (spec §4.1's unified header); the
 *   body is the JSON, or EncryptData with the `DisperseKey` and `MacValue` headers.
 * - SOAP 1.1: `<ReceiveRealTimeData>` / `<ReceiveAlarmData>` in http://tempuri.org/ with the three
 *   strings, as wsdl/CIS_PushReceiver.wsdl describes; `OpResult` is the ReturnCode.
 *
 * The answer may come back encrypted (DisperseKey and MacValue set) or in plaintext; an encrypted
 * one must verify, otherwise the attempt counts as failed. A plaintext answer is accepted from an
 * encrypted tenant too: the spec does not say the CIS must encrypt it, and in SOAP the OpResult
 * travels outside the encryption anyway.
 *
 * Node's own http client with a keep-alive agent per tenant lane (push/tenant-lane.ts), so that
 * one tenant's stalled sockets never hold another tenant's requests.
 */
import http from 'node:http';
import https from 'node:https';
import { XMLParser } from 'fast-xml-parser';
import iconv from 'iconv-lite';
import { isPlatformError } from '../domain/errors';
import { NumberText, parsePayload } from '../domain/payload';
import type { PushKind } from '../persistence/repositories/push-outbox-repository';
import type { PushFormat } from '../persistence/repositories/push-settings-repository';
import { encryptMessage, generateDisperseKey, verifyAndDecrypt, type TenantKeys } from '../security/message-crypto';
import { SOAP_OPERATIONS } from './push-message';

export interface PushRequest {
  url: string;
  format: PushFormat;
  kind: PushKind;
  payloadJson: string;
  /** Undefined: the tenant is plaintext (DECISIONS §3.5). */
  keys: TenantKeys | undefined;
  timeoutMs: number;
  agents: LaneAgents;
  /** Aborts the attempt early (the worker is stopping). */
  signal?: AbortSignal;
}

/** What came back: an answer (with the CIS's ReturnCode, when it could be read) or nothing. */
export type CisAnswer =
  | { answered: true; returnCode: number | null; message: string }
  | { answered: false; reason: string };

/** The HTTP and HTTPS agents of one tenant lane. */
export class LaneAgents {
  private httpAgent?: http.Agent;
  private httpsAgent?: https.Agent;

  constructor(private maxSockets: number) {}

  for(url: URL): http.Agent {
    if (url.protocol === 'https:') {
      this.httpsAgent ??= new https.Agent({ keepAlive: true, maxSockets: this.maxSockets });
      return this.httpsAgent;
    }
    this.httpAgent ??= new http.Agent({ keepAlive: true, maxSockets: this.maxSockets });
    return this.httpAgent;
  }

  /** Takes effect for agents created from now on; the old ones are closed. */
  resize(maxSockets: number): void {
    if (maxSockets === this.maxSockets) return;
    this.maxSockets = maxSockets;
    this.destroy();
  }

  destroy(): void {
    this.httpAgent?.destroy();
    this.httpsAgent?.destroy();
    this.httpAgent = undefined;
    this.httpsAgent = undefined;
  }
}

/** An answer larger than this is not a ReturnCode; reading stops there. */
const MAX_ANSWER_BYTES = 1024 * 1024;

export async function sendPush(request: PushRequest): Promise<CisAnswer> {
  const message = sealPayload(request.keys, request.payloadJson);
  const outgoing = request.format === 'soap' ? soapRequest(request.kind, message) : restRequest(message);

  let response: HttpResponse;
  try {
    response = await post(request, outgoing.body, outgoing.headers);
  } catch (error) {
    return { answered: false, reason: describeNetworkError(error, request) };
  }

  try {
    return request.format === 'soap'
      ? readSoapAnswer(request.kind, response, request.keys)
      : readRestAnswer(response, request.keys);
  } catch (error) {
    return { answered: true, returnCode: null, message: unreadable(response, error) };
  }
}

interface SealedMessage {
  encryptData: string;
  disperseKey: string;
  macValue: string;
}

function sealPayload(keys: TenantKeys | undefined, payloadJson: string): SealedMessage {
  if (!keys) return { encryptData: payloadJson, disperseKey: '', macValue: '' };

  // DECISIONS §3.1: a fresh DisperseKey for every message, a retry of the same push included.
  const disperseKey = generateDisperseKey();
  const sealed = encryptMessage(keys, disperseKey, payloadJson);
  return { encryptData: sealed.encryptData, disperseKey, macValue: sealed.macValue };
}

interface OutgoingRequest {
  /** Text, so that Node writes the head and the body in one write. */
  body: string;
  headers: Record<string, string>;
}

function restRequest(message: SealedMessage): OutgoingRequest {
  const headers: Record<string, string> = { 'Content-Type': 'text/html;charset=utf-8' };
  if (message.disperseKey !== '') {
    headers.DisperseKey = message.disperseKey;
    headers.MacValue = message.macValue;
  }
  return { body: message.encryptData, headers };
}

function soapRequest(kind: PushKind, message: SealedMessage): OutgoingRequest {
  const operation = SOAP_OPERATIONS[kind];
  const envelope =
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" ' +
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">' +
    `<soap:Body><${operation} xmlns="http://tempuri.org/">` +
    `<EncryptData>${escapeXml(message.encryptData)}</EncryptData>` +
    `<DisperseKey>${message.disperseKey}</DisperseKey>` +
    `<MacValue>${message.macValue}</MacValue>` +
    `</${operation}></soap:Body></soap:Envelope>`;

  return {
    body: envelope,
    headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"http://tempuri.org/${operation}"` },
  };
}

interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * One POST with a deadline for the whole exchange (connect, send, answer). A plain timer, not
 * AbortSignal.timeout / AbortSignal.any: those cost a signal, a DOMException and listeners per
 * request, a visible share of the worker's CPU at a thousand pushes a second.
 */
function post(request: PushRequest, body: string, headers: Record<string, string>): Promise<HttpResponse> {
  const url = new URL(request.url);
  const transport = url.protocol === 'https:' ? https : http;

  return new Promise((resolve, reject) => {
    const outgoing = transport.request(url, {
      method: 'POST',
      headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body, 'utf8')) },
      agent: request.agents.for(url),
    });
    const fail = (error: Error) => {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', stop);
      reject(error);
    };
    const stop = () => outgoing.destroy(namedError('AbortError', 'platform stopping'));
    const timer = setTimeout(
      () => outgoing.destroy(namedError('TimeoutError', `no answer within ${request.timeoutMs} ms`)),
      request.timeoutMs,
    );
    request.signal?.addEventListener('abort', stop, { once: true });

    outgoing.on('error', fail);
    outgoing.on('response', (incoming) => {
      const chunks: Buffer[] = [];
      let size = 0;
      incoming.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
      });
      incoming.on('error', fail);
      incoming.on('end', () => {
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', stop);
        resolve({
          status: incoming.statusCode ?? 0,
          headers: incoming.headers,
          text: decodeBody(Buffer.concat(chunks), incoming.headers['content-type']),
        });
      });
    });
    outgoing.end(body, 'utf8');
  });
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** A CIS on Chinese Windows may answer in GBK; the charset it declares is honoured. */
function decodeBody(bytes: Buffer, contentType: string | undefined): string {
  const charset = /charset\s*=\s*"?([\w-]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset && charset !== 'utf-8' && charset !== 'utf8' && iconv.encodingExists(charset)) {
    return iconv.decode(bytes, charset);
  }
  return bytes.toString('utf8').replace(/^\uFEFF/, '');
}

function readRestAnswer(response: HttpResponse, keys: TenantKeys | undefined): CisAnswer {
  const disperseKey = headerText(response.headers.dispersekey);
  const macValue = headerText(response.headers.macvalue);
  const payloadText =
    disperseKey !== '' && macValue !== '' ? openAnswer(keys, disperseKey, response.text.trim(), macValue) : response.text;

  return answerFromPayload(payloadText);
}

function readSoapAnswer(kind: PushKind, response: HttpResponse, keys: TenantKeys | undefined): CisAnswer {
  const operation = SOAP_OPERATIONS[kind];
  const body = soapParser.parse(response.text)?.Envelope?.Body as Record<string, unknown> | undefined;
  if (!body) throw new Error('no SOAP envelope');

  const fault = body.Fault as Record<string, unknown> | undefined;
  if (fault) {
    const reason = textOf(fault.faultstring) || textOf((fault.Reason as Record<string, unknown>)?.Text);
    return { answered: true, returnCode: null, message: `SOAP fault: ${reason}`.slice(0, 300) };
  }

  const result = body[`${operation}Response`] as Record<string, unknown> | undefined;
  if (!result) throw new Error(`no ${operation}Response`);
  const disperseKey = textOf(result.DisperseKey);
  const macValue = textOf(result.MacValue);
  const encryptData = textOf(result.EncryptData);
  const opResult = textOf(result[`${operation}Result`]);

  if (disperseKey !== '' && macValue !== '') {
    const answer = answerFromPayload(openAnswer(keys, disperseKey, encryptData, macValue));
    if (answer.answered && opResult !== '' && Number(opResult) !== answer.returnCode) {
      throw new Error(`${operation}Result ${opResult} differs from the ReturnCode inside the answer`);
    }
    return answer;
  }
  if (/^-?\d+$/.test(opResult)) {
    const message = encryptData === '' ? '' : messageOf(encryptData);
    return { answered: true, returnCode: Number(opResult), message };
  }
  throw new Error(`no ${operation}Result`);
}

function openAnswer(keys: TenantKeys | undefined, disperseKey: string, encryptData: string, macValue: string): string {
  if (!keys) throw new Error('the answer is encrypted but the tenant is plaintext');
  try {
    return verifyAndDecrypt(keys, disperseKey, encryptData, macValue);
  } catch (error) {
    const code = isPlatformError(error) ? ` (${error.code})` : '';
    throw new Error(`the encrypted answer does not verify${code}`);
  }
}

function answerFromPayload(payloadText: string): CisAnswer {
  const payload = parsePayload(payloadText);
  const code = payload.get('ReturnCode');
  const codeText = code instanceof NumberText ? code.text : typeof code === 'string' ? code.trim() : '';
  if (!/^-?\d+$/.test(codeText)) throw new Error('no ReturnCode in the answer');

  const message = payload.get('ReturnMessage');
  return { answered: true, returnCode: Number(codeText), message: typeof message === 'string' ? message : '' };
}

function messageOf(payloadText: string): string {
  try {
    const message = parsePayload(payloadText).get('ReturnMessage');
    return typeof message === 'string' ? message : '';
  } catch {
    return '';
  }
}

const soapParser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  parseTagValue: false,
  processEntities: true,
  ignoreDeclaration: true,
});

function textOf(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return String(value);
  return '';
}

function headerText(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value)?.trim() ?? '';
}

function describeNetworkError(error: unknown, request: PushRequest): string {
  const failure = error as NodeJS.ErrnoException & { cause?: unknown };
  if (failure.name === 'AbortError' || failure.name === 'TimeoutError') {
    return request.signal?.aborted ? 'platform stopping' : `no answer within ${request.timeoutMs} ms`;
  }
  if (failure.code === 'ECONNREFUSED') return 'connection refused';
  if (failure.code === 'ECONNRESET') return 'connection reset before the answer';
  return failure.code ? `${failure.code}: ${failure.message}` : failure.message;
}

function unreadable(response: HttpResponse, error: unknown): string {
  const snippet = response.text.replace(/\s+/g, ' ').slice(0, 120);
  return `HTTP ${response.status}, answer not understood (${(error as Error).message}): ${snippet}`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
