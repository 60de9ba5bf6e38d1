/**
 * The reference CIS receiver (issue 6): a small stand-in for a gas company's CIS that receives the
 * platform's pushes (spec §6) the way docs/cis-push.md tells a CIS team to, over REST and SOAP
 * (wsdl/CIS_PushReceiver.wsdl). Used by the tests, the benchmark and the demo.
 *
 * - Records what it stores, deduplicated by requestSerialNo, and counts repeats.
 * - Verifies the MAC and decrypts (DECISIONS §3) when given the registration code, and answers an
 *   encrypted push encrypted, under its own fresh DisperseKey, as a CIS should.
 * - Misbehaves on demand: fails a share of the pushes (answers 80001010 without storing), delays
 *   its answers, stalls (holds every request unanswered until the stall ends, then stores and
 *   answers them: the platform has long timed out and sent them again, so they become repeats), or
 *   goes down (closes its port: connection refused) and comes back on the same port.
 *
 * Admin endpoints (JSON): GET /admin/stats, GET /admin/received, POST /admin/behaviour with
 * {"failRate":0.5,"delayMs":0,"stalled":false,"downForSeconds":60}, POST /admin/reset.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { z } from 'zod';
import { isPlatformError } from '../domain/errors';
import type { Logger } from '../logger';
import {
  encryptMessage,
  generateDisperseKey,
  parseRegistrationCode,
  verifyAndDecrypt,
  type TenantKeys,
} from '../security/message-crypto';

export interface ReceiverBehaviour {
  /** Share of pushes answered 80001010 and not stored, 0 to 1. */
  failRate: number;
  /** Added before every answer. */
  delayMs: number;
  /** Hold every request unanswered until this is turned off. */
  stalled: boolean;
}

export interface CisReceiverOptions extends Partial<ReceiverBehaviour> {
  /** The tenant's registration code: without it encrypted pushes are refused (80003001). */
  registrationCode?: string;
  logger?: Logger;
  /** For tests: decides which requests fail. */
  random?: () => number;
}

/** One push as stored, whatever the number of times it arrived. */
export interface ReceivedPush {
  requestSerialNo: string;
  cmdCode: string;
  dataFrom: string;
  transport: 'rest' | 'soap';
  encrypted: boolean;
  /** The JSON exactly as received (decrypted). */
  payloadText: string;
  payload: Record<string, unknown>;
  /** How many times it was stored and answered 0; more than 1 means repeats. */
  count: number;
  firstReceivedAt: Date;
  lastReceivedAt: Date;
}

export interface ReceiverStats {
  requests: number;
  accepted: number;
  unique: number;
  repeats: number;
  failedOnPurpose: number;
  refused: number;
  held: number;
  /** Pushes being received right now (connection open, no answer yet) ... */
  inProgress: number;
  /** ... and the most there ever were at once: what the platform's per-tenant limit bounds. */
  peakInProgress: number;
}

export const RECEIVER_PATHS = {
  realTimeData: '/rest/RealTimeData',
  alarmData: '/rest/AlarmData',
  soap: '/CIS_PushReceiver.asmx',
} as const;

const SOAP_OPERATIONS = ['ReceiveRealTimeData', 'ReceiveAlarmData'] as const;
const SOAP11_NAMESPACE = 'http://schemas.xmlsoap.org/soap/envelope/';
const SOAP12_NAMESPACE = 'http://www.w3.org/2003/05/soap-envelope';
const FAILURE_CODE = 80001010;
const MAX_BODY_BYTES = 1024 * 1024;

interface Incoming {
  transport: 'rest' | 'soap';
  soapVersion?: '1.1' | '1.2';
  operation?: string;
  encryptData: string;
  disperseKey: string;
  macValue: string;
}

interface Answer {
  code: number;
  message: string;
  encrypted: boolean;
}

export class CisReceiver {
  readonly received = new Map<string, ReceivedPush>();
  readonly behaviour: ReceiverBehaviour;
  private readonly stats = { requests: 0, accepted: 0, repeats: 0, failedOnPurpose: 0, refused: 0 };
  private inProgress = 0;
  private peakInProgress = 0;
  private readonly keys?: TenantKeys;
  private readonly random: () => number;
  private readonly server: http.Server;
  private readonly held: Array<() => void> = [];
  private port = 0;
  private host = '127.0.0.1';
  private comeBackTimer?: NodeJS.Timeout;
  private listening = false;

  constructor(private readonly options: CisReceiverOptions = {}) {
    this.behaviour = {
      failRate: options.failRate ?? 0,
      delayMs: options.delayMs ?? 0,
      stalled: options.stalled ?? false,
    };
    this.keys = options.registrationCode ? parseRegistrationCode(options.registrationCode) : undefined;
    this.random = options.random ?? Math.random;
    this.server = http.createServer((request, response) => void this.handle(request, response));
    this.server.keepAliveTimeout = 30_000;
  }

  /** Base URL, e.g. http://127.0.0.1:9090 */
  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  get restReadingUrl(): string {
    return this.url + RECEIVER_PATHS.realTimeData;
  }

  get restAlarmUrl(): string {
    return this.url + RECEIVER_PATHS.alarmData;
  }

  get soapUrl(): string {
    return this.url + RECEIVER_PATHS.soap;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.host = host;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.listening = true;
    return this.url;
  }

  /** Closes the port and every open connection: the platform now gets "connection refused". */
  async goDown(forSeconds?: number): Promise<void> {
    if (this.listening) {
      this.listening = false;
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeAllConnections();
      await closed;
    }
    if (forSeconds !== undefined) {
      this.comeBackTimer = setTimeout(() => void this.comeBack(), forSeconds * 1000);
    }
  }

  /** Listens again on the same port. */
  async comeBack(): Promise<void> {
    if (this.comeBackTimer) clearTimeout(this.comeBackTimer);
    this.comeBackTimer = undefined;
    if (!this.listening) await this.listen(this.port, this.host);
  }

  /** Stalls (holds every request) or ends the stall, storing and answering what was held. */
  setStalled(stalled: boolean): void {
    this.behaviour.stalled = stalled;
    if (!stalled) for (const release of this.held.splice(0)) release();
  }

  setFailRate(failRate: number): void {
    if (!(failRate >= 0 && failRate <= 1)) throw new Error('the fail rate is between 0 and 1');
    this.behaviour.failRate = failRate;
  }

  statistics(): ReceiverStats {
    return {
      ...this.stats,
      unique: this.received.size,
      held: this.held.length,
      inProgress: this.inProgress,
      peakInProgress: this.peakInProgress,
    };
  }

  /** Received pushes of one kind (cmdCode), e.g. 'RealTimeData'. */
  pushesOf(cmdCode: string): ReceivedPush[] {
    return [...this.received.values()].filter((push) => push.cmdCode === cmdCode);
  }

  reset(): void {
    this.received.clear();
    Object.assign(this.stats, { requests: 0, accepted: 0, repeats: 0, failedOnPurpose: 0, refused: 0 });
    this.peakInProgress = this.inProgress;
  }

  async close(): Promise<void> {
    this.setStalled(false);
    if (this.comeBackTimer) clearTimeout(this.comeBackTimer);
    if (!this.listening) return;
    await this.goDown();
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    try {
      const url = new URL(request.url ?? '/', 'http://receiver');
      if (url.pathname.startsWith('/admin/')) return await this.handleAdmin(request, response, url);
      if (request.method === 'GET' && /\.asmx$/i.test(url.pathname) && /^wsdl$/i.test(url.search.slice(1))) {
        return this.sendWsdl(request, response);
      }
      if (request.method !== 'POST') return sendJson(response, 404, { error: 'not found' });
      this.countInProgress(response);

      const body = await readBody(request);
      this.stats.requests += 1;
      const process = () => void this.receive(request, response, url, body);
      if (this.behaviour.stalled) this.held.push(process);
      else process();
    } catch (error) {
      if (!response.headersSent) sendJson(response, 500, { error: (error as Error).message });
    }
  }

  /** Counts the request until it is answered or its connection closes (the platform gave up). */
  private countInProgress(response: http.ServerResponse): void {
    this.inProgress += 1;
    this.peakInProgress = Math.max(this.peakInProgress, this.inProgress);
    response.once('close', () => {
      this.inProgress -= 1;
    });
  }

  private async receive(
    request: http.IncomingMessage,
    response: http.ServerResponse,
    url: URL,
    body: string,
  ): Promise<void> {
    if (this.behaviour.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.behaviour.delayMs));

    let incoming: Incoming;
    try {
      incoming = /\.asmx$/i.test(url.pathname) ? readSoap(request, body) : readRest(request, body);
    } catch (error) {
      return sendSoapFault(response, (error as Error).message);
    }

    const answer = this.store(incoming);
    this.options.logger?.debug({ code: answer.code, transport: incoming.transport }, 'push received');
    if (incoming.transport === 'soap') this.answerSoap(response, incoming, answer);
    else this.answerRest(response, answer);
  }

  /** Stores the push unless told to fail it; returns what to answer. */
  private store(incoming: Incoming): Answer {
    const encrypted = incoming.disperseKey !== '' || incoming.macValue !== '';
    if (this.behaviour.failRate > 0 && this.random() < this.behaviour.failRate) {
      this.stats.failedOnPurpose += 1;
      return { code: FAILURE_CODE, message: '参考接收端按设定比例拒收', encrypted: false };
    }

    let payloadText: string;
    try {
      payloadText = encrypted ? this.open(incoming) : incoming.encryptData;
    } catch (error) {
      this.stats.refused += 1;
      const code = isPlatformError(error) ? error.code : 80003001;
      return { code, message: (error as Error).message, encrypted: false };
    }

    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(payloadText.replace(/^\uFEFF/, '')) as Record<string, unknown>;
    } catch {
      this.stats.refused += 1;
      return { code: 80002001, message: '传入参数解析失败', encrypted };
    }
    const serial = payload.requestSerialNo;
    if (typeof serial !== 'string' || serial === '') {
      this.stats.refused += 1;
      return { code: 80002003, message: '传入参数缺少重要字段：requestSerialNo', encrypted };
    }

    this.record(serial, payload, payloadText, incoming, encrypted);
    return { code: 0, message: '接收成功', encrypted };
  }

  private open(incoming: Incoming): string {
    if (!this.keys) throw new Error('MAC 校验失败：参考接收端未配置注册码');
    return verifyAndDecrypt(this.keys, incoming.disperseKey, incoming.encryptData, incoming.macValue);
  }

  private record(
    serial: string,
    payload: Record<string, unknown>,
    payloadText: string,
    incoming: Incoming,
    encrypted: boolean,
  ): void {
    const now = new Date();
    this.stats.accepted += 1;
    const existing = this.received.get(serial);
    if (existing) {
      existing.count += 1;
      existing.lastReceivedAt = now;
      this.stats.repeats += 1;
      return;
    }
    this.received.set(serial, {
      requestSerialNo: serial,
      cmdCode: String(payload.cmdCode ?? ''),
      dataFrom: String(payload.DataFrom ?? ''),
      transport: incoming.transport,
      encrypted,
      payloadText,
      payload,
      count: 1,
      firstReceivedAt: now,
      lastReceivedAt: now,
    });
  }

  private seal(answer: Answer): { encryptData: string; disperseKey: string; macValue: string } {
    const json = JSON.stringify({ ReturnCode: answer.code, ReturnMessage: answer.message });
    if (!answer.encrypted || !this.keys) return { encryptData: json, disperseKey: '', macValue: '' };

    const disperseKey = generateDisperseKey();
    const sealed = encryptMessage(this.keys, disperseKey, json);
    return { encryptData: sealed.encryptData, disperseKey, macValue: sealed.macValue };
  }

  private answerRest(response: http.ServerResponse, answer: Answer): void {
    const sealed = this.seal(answer);
    const headers: Record<string, string> = { 'Content-Type': 'text/html;charset=utf-8' };
    if (sealed.disperseKey !== '') {
      headers.DisperseKey = sealed.disperseKey;
      headers.MacValue = sealed.macValue;
    }
    send(response, 200, headers, sealed.encryptData);
  }

  private answerSoap(response: http.ServerResponse, incoming: Incoming, answer: Answer): void {
    const sealed = this.seal(answer);
    const operation = incoming.operation as string;
    const soap12 = incoming.soapVersion === '1.2';
    const envelope =
      '<?xml version="1.0" encoding="utf-8"?>' +
      `<soap:Envelope xmlns:soap="${soap12 ? SOAP12_NAMESPACE : SOAP11_NAMESPACE}">` +
      `<soap:Body><${operation}Response xmlns="http://tempuri.org/">` +
      `<${operation}Result>${answer.code}</${operation}Result>` +
      `<EncryptData>${escapeXml(sealed.encryptData)}</EncryptData>` +
      `<DisperseKey>${sealed.disperseKey}</DisperseKey>` +
      `<MacValue>${sealed.macValue}</MacValue>` +
      `</${operation}Response></soap:Body></soap:Envelope>`;
    const contentType = soap12 ? 'application/soap+xml; charset=utf-8' : 'text/xml; charset=utf-8';
    send(response, 200, { 'Content-Type': contentType }, envelope);
  }

  private sendWsdl(request: http.IncomingMessage, response: http.ServerResponse): void {
    const address = `http://${request.headers.host ?? `${this.host}:${this.port}`}${RECEIVER_PATHS.soap}`;
    const wsdl = loadReceiverWsdl().replace(/http:\/\/localhost\/CIS_PushReceiver\.asmx/g, address);
    send(response, 200, { 'Content-Type': 'text/xml; charset=utf-8' }, wsdl);
  }

  private async handleAdmin(request: http.IncomingMessage, response: http.ServerResponse, url: URL): Promise<void> {
    if (request.method === 'GET' && url.pathname === '/admin/stats') {
      return sendJson(response, 200, { ...this.statistics(), behaviour: this.behaviour });
    }
    if (request.method === 'GET' && url.pathname === '/admin/received') {
      return sendJson(response, 200, [...this.received.values()]);
    }
    if (request.method === 'POST' && url.pathname === '/admin/reset') {
      this.reset();
      return sendJson(response, 200, this.statistics());
    }
    if (request.method === 'POST' && url.pathname === '/admin/behaviour') {
      const change = readBehaviourChange(await readBody(request));
      if (!change.success) return sendJson(response, 400, { error: change.error });
      const { failRate, delayMs, stalled, downForSeconds } = change.data;
      if (failRate !== undefined) this.setFailRate(failRate);
      if (delayMs !== undefined) this.behaviour.delayMs = delayMs;
      if (stalled !== undefined) this.setStalled(stalled);
      sendJson(response, 200, { behaviour: this.behaviour });
      if (downForSeconds !== undefined) {
        response.once('finish', () => void this.goDown(downForSeconds));
      }
      return;
    }
    sendJson(response, 404, { error: 'not found' });
  }
}

function readRest(request: http.IncomingMessage, body: string): Incoming {
  return {
    transport: 'rest',
    encryptData: body.trim(),
    disperseKey: headerText(request.headers.dispersekey),
    macValue: headerText(request.headers.macvalue),
  };
}

const soapParser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  parseTagValue: false,
  processEntities: true,
  ignoreDeclaration: true,
});

function readSoap(request: http.IncomingMessage, body: string): Incoming {
  const envelope = soapParser.parse(body)?.Envelope as Record<string, unknown> | undefined;
  const soapBody = envelope?.Body as Record<string, unknown> | undefined;
  if (!soapBody) throw new Error('not a SOAP envelope');

  const operation = SOAP_OPERATIONS.find((name) => soapBody[name] !== undefined);
  if (!operation) throw new Error(`unknown operation; expected one of ${SOAP_OPERATIONS.join(', ')}`);
  const parameters = (soapBody[operation] ?? {}) as Record<string, unknown>;

  return {
    transport: 'soap',
    soapVersion: /application\/soap\+xml/i.test(request.headers['content-type'] ?? '') ? '1.2' : '1.1',
    operation,
    encryptData: textOf(parameters.EncryptData),
    disperseKey: textOf(parameters.DisperseKey),
    macValue: textOf(parameters.MacValue),
  };
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: http.ServerResponse, status: number, headers: Record<string, string>, text: string): void {
  if (response.destroyed || response.headersSent) return;
  const body = Buffer.from(text, 'utf8');
  response.writeHead(status, { ...headers, 'Content-Length': String(body.length) });
  response.end(body);
}

function sendJson(response: http.ServerResponse, status: number, value: unknown): void {
  send(response, status, { 'Content-Type': 'application/json; charset=utf-8' }, JSON.stringify(value));
}

function sendSoapFault(response: http.ServerResponse, reason: string): void {
  const envelope =
    '<?xml version="1.0" encoding="utf-8"?>' +
    `<soap:Envelope xmlns:soap="${SOAP11_NAMESPACE}"><soap:Body><soap:Fault>` +
    `<faultcode>soap:Client</faultcode><faultstring>${escapeXml(reason)}</faultstring>` +
    '</soap:Fault></soap:Body></soap:Envelope>';
  send(response, 500, { 'Content-Type': 'text/xml; charset=utf-8' }, envelope);
}

let wsdlTemplate: string | undefined;

/** wsdl/CIS_PushReceiver.wsdl, from the source tree or from beside dist/. */
export function loadReceiverWsdl(): string {
  if (wsdlTemplate) return wsdlTemplate;
  const candidates = [
    path.resolve(__dirname, '../../wsdl/CIS_PushReceiver.wsdl'),
    path.resolve(__dirname, '../../../wsdl/CIS_PushReceiver.wsdl'),
  ];
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) throw new Error(`CIS_PushReceiver.wsdl not found (looked in ${candidates.join(', ')})`);
  wsdlTemplate = fs.readFileSync(found, 'utf8');
  return wsdlTemplate;
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
}

function headerText(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value)?.trim() ?? '';
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const BEHAVIOUR_CHANGE = z
  .object({
    failRate: z.number().min(0).max(1).optional(),
    delayMs: z.number().int().min(0).max(600_000).optional(),
    stalled: z.boolean().optional(),
    downForSeconds: z.number().min(0).max(86_400).optional(),
  })
  .strict();

/** POST /admin/behaviour's body, or why it cannot be used (answered 400). */
function readBehaviourChange(body: string) {
  let json: unknown;
  try {
    json = JSON.parse(body.trim() === '' ? '{}' : body);
  } catch {
    return { success: false as const, error: 'the body is not JSON' };
  }
  const result = BEHAVIOUR_CHANGE.safeParse(json);
  if (result.success) return { success: true as const, data: result.data };
  return {
    success: false as const,
    error: result.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '),
  };
}
