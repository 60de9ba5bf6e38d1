import { XMLParser } from 'fast-xml-parser';
import { isPlatformError } from '../domain/errors';
import { OPERATIONS, type OperationName } from '../domain/operations';
import {
  encryptMessage,
  generateDisperseKey,
  parseRegistrationCode,
  verifyAndDecrypt,
  type TenantKeys,
} from '../security/message-crypto';

/**
 * A CIS-side client of the platform (interface spec §4 and §5.3, DECISIONS §2 and §3): it
 * encrypts a payload with the tenant's registration code under a fresh DisperseKey, calls one
 * operation over REST or SOAP 1.1, verifies the answer's MAC, decrypts it and parses it. The
 * `cnmcsp call` command and the tests use it; it is also a reference for integrators.
 */
export type ClientTransport = 'rest' | 'soap';

export interface ClientOptions {
  /** `http://host:port`, or with a tenant's path prefix `http://host:port/{tenantCode}` (§3.6). */
  baseUrl: string;
  transport: ClientTransport;
  /** The tenant's 64-hex registration code. Omitted: plaintext (test servers only, §3.5). */
  registrationCode?: string;
  timeoutMs?: number;
}

/** The three strings of spec §4, in either direction. */
export interface WireMessage {
  encryptData: string;
  disperseKey: string;
  macValue: string;
}

export interface ClientAnswer {
  returnCode: number;
  returnMessage: string;
  /** The answer's JSON text exactly as the platform wrote it (money keeps its 4 decimals). */
  payloadText: string;
  payload: Record<string, unknown>;
  /** True when the answer came encrypted and its MAC verified with the registration code. */
  verified: boolean;
  sent: WireMessage;
  received: WireMessage;
  httpStatus: number;
}

/** The call could not give a trustworthy answer; `code` is the spec code when there is one. */
export class CnmcspClientError extends Error {
  override name = 'CnmcspClientError';

  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

const TEMPURI = 'http://tempuri.org/';
const SOAP_PATH = '/WSI_MIDDataServices.asmx';

const xmlParser = new XMLParser({
  removeNSPrefix: true,
  parseTagValue: false,
  ignoreAttributes: true,
  trimValues: false,
  htmlEntities: true,
});

export class CnmcspClient {
  private readonly keys?: TenantKeys;
  private readonly baseUrl: string;

  constructor(private readonly options: ClientOptions) {
    this.keys = options.registrationCode === undefined ? undefined : parseRegistrationCode(options.registrationCode);
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** Calls one operation. `payload` is sent as given when a string, as JSON when an object. */
  async call(operation: OperationName, payload: string | object): Promise<ClientAnswer> {
    const payloadText = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const sent = this.seal(payloadText);

    const exchange =
      this.options.transport === 'rest' ? await this.callRest(operation, sent) : await this.callSoap(operation, sent);
    const opened = this.open(exchange.received);
    const answer = parseAnswer(opened.text);
    if (exchange.soapResult !== undefined && exchange.soapResult !== answer.returnCode) {
      throw new CnmcspClientError(
        `${operation}Result ${exchange.soapResult} differs from the ReturnCode ${answer.returnCode} of the answer`,
      );
    }

    return { ...answer, verified: opened.verified, sent, received: exchange.received, httpStatus: exchange.status };
  }

  /** The wire form of a payload: encrypted under a fresh DisperseKey, or plaintext without a code. */
  seal(payloadText: string): WireMessage {
    if (!this.keys) return { encryptData: payloadText, disperseKey: '', macValue: '' };

    const disperseKey = generateDisperseKey();
    return { disperseKey, ...encryptMessage(this.keys, disperseKey, payloadText) };
  }

  /**
   * The answer's text. An encrypted answer must verify. A plaintext answer to an encrypted request
   * is accepted only as a refusal (non-zero ReturnCode): the platform answers in plaintext only
   * when it could not tell whose key to use, and a plaintext success could be anyone's forgery.
   */
  open(received: WireMessage): { text: string; verified: boolean } {
    const plaintext = received.disperseKey === '' && received.macValue === '';
    if (plaintext) {
      if (this.keys && parseAnswer(received.encryptData).returnCode === 0) {
        throw new CnmcspClientError('an encrypted request was answered with an unverifiable plaintext success');
      }
      return { text: received.encryptData, verified: false };
    }
    if (!this.keys) {
      throw new CnmcspClientError('the answer is encrypted, but no registration code was given to read it');
    }

    try {
      const text = verifyAndDecrypt(this.keys, received.disperseKey, received.encryptData, received.macValue);
      return { text, verified: true };
    } catch (error) {
      if (!isPlatformError(error)) throw error;
      throw new CnmcspClientError(`the answer failed verification: ${error.message}`, error.code);
    }
  }

  private async callRest(operation: OperationName, sent: WireMessage): Promise<Exchange> {
    const restPath = OPERATIONS.find((candidate) => candidate.name === operation)?.restPath as string;
    const headers: Record<string, string> = { 'Content-Type': 'text/html;charset=utf-8' };
    if (sent.disperseKey !== '' || sent.macValue !== '') {
      headers.DisperseKey = sent.disperseKey;
      headers.MacValue = sent.macValue;
    }

    const response = await this.post(`${this.baseUrl}/rest/Standard${restPath}`, headers, sent.encryptData);
    const encryptData = await response.text();
    return {
      status: response.status,
      received: {
        encryptData,
        disperseKey: response.headers.get('DisperseKey') ?? '',
        macValue: response.headers.get('MacValue') ?? '',
      },
    };
  }

  private async callSoap(operation: OperationName, sent: WireMessage): Promise<Exchange> {
    const headers = { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${TEMPURI}${operation}"` };
    const response = await this.post(`${this.baseUrl}${SOAP_PATH}`, headers, soapRequest(operation, sent));
    const body = await response.text();

    const envelope = xmlParser.parse(body) as { Envelope?: { Body?: Record<string, unknown> } };
    const soapBody = envelope.Envelope?.Body ?? {};
    const fault = soapBody.Fault as { faultstring?: unknown } | undefined;
    if (fault) throw new CnmcspClientError(`SOAP fault: ${textOf(fault.faultstring)}`);

    const wrapper = soapBody[`${operation}Response`] as Record<string, unknown> | undefined;
    if (!wrapper || response.status !== 200) {
      throw new CnmcspClientError(`unexpected SOAP answer (HTTP ${response.status}): ${body.slice(0, 200)}`);
    }
    return {
      status: response.status,
      soapResult: Number(textOf(wrapper[`${operation}Result`])),
      received: {
        encryptData: textOf(wrapper.EncryptData),
        disperseKey: textOf(wrapper.DisperseKey),
        macValue: textOf(wrapper.MacValue),
      },
    };
  }

  private async post(url: string, headers: Record<string, string>, body: string): Promise<Response> {
    try {
      return await fetch(url, {
        method: 'POST',
        headers,
        body: Buffer.from(body, 'utf8'),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
      });
    } catch (error) {
      throw new CnmcspClientError(`cannot reach ${url}: ${(error as Error).message}`);
    }
  }
}

interface Exchange {
  status: number;
  received: WireMessage;
  soapResult?: number;
}

/** The SOAP 1.1 request .NET's generated proxy sends (DECISIONS §2.1). */
export function soapRequest(operation: OperationName, message: WireMessage): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
    `<soap:Body><${operation} xmlns="${TEMPURI}">` +
    `<EncryptData>${escapeXml(message.encryptData)}</EncryptData>` +
    `<DisperseKey>${escapeXml(message.disperseKey)}</DisperseKey>` +
    `<MacValue>${escapeXml(message.macValue)}</MacValue>` +
    `</${operation}></soap:Body></soap:Envelope>`
  );
}

function parseAnswer(text: string): Pick<ClientAnswer, 'returnCode' | 'returnMessage' | 'payload' | 'payloadText'> {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    throw new CnmcspClientError(`the answer is not JSON: ${text.slice(0, 200)}`);
  }
  if (typeof payload !== 'object' || payload === null || typeof (payload as { ReturnCode?: unknown }).ReturnCode !== 'number') {
    throw new CnmcspClientError(`the answer has no numeric ReturnCode: ${text.slice(0, 200)}`);
  }

  const answer = payload as Record<string, unknown>;
  return {
    returnCode: answer.ReturnCode as number,
    returnMessage: String(answer.ReturnMessage ?? ''),
    payload: answer,
    payloadText: text,
  };
}

function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return String((value as { '#text'?: unknown })['#text'] ?? '');
  return String(value);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
