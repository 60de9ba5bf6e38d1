/**
 * Requests written byte for byte, as SoapUI, a .NET proxy or a hand-made client sends them, to
 * the running platform over real HTTP (chunked on demand), and their answers opened after the
 * checks of wire-checks.ts: SOAP or REST, plaintext or encrypted (DECISIONS §3.3, with the
 * platform's crypto module standing in for the CIS).
 */
import http from 'node:http';

import type { OperationName } from '../../src/domain/operations';
import {
  encryptMessage,
  generateDisperseKey,
  parseRegistrationCode,
  verifyAndDecrypt,
} from '../../src/security/message-crypto';
import { ENVELOPE_NAMESPACES, type SoapVersion, type WireAnswer, type WireChecker } from './wire-checks';

export interface RawRequest {
  path: string;
  headers: Record<string, string>;
  /** The body in pieces; with `chunked` each piece is its own chunk, sent 20 ms apart. */
  pieces: Buffer[];
  chunked?: boolean;
}

export function sendRaw(baseUrl: string, request: RawRequest): Promise<WireAnswer> {
  const url = new URL(baseUrl);
  const body = Buffer.concat(request.pieces);
  const headers = request.chunked
    ? { ...request.headers, 'Transfer-Encoding': 'chunked' }
    : { ...request.headers, 'Content-Length': String(body.length) };

  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      { host: url.hostname, port: url.port, method: 'POST', path: request.path, headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) });
        });
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    void (async () => {
      if (!request.chunked) {
        outgoing.end(body);
        return;
      }
      for (const piece of request.pieces) {
        outgoing.write(piece);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      outgoing.end();
    })();
  });
}

/** The three parameters of spec §4.2; one left undefined is left out of the envelope. */
export interface SoapParameters {
  EncryptData?: string;
  DisperseKey?: string;
  MacValue?: string;
}

/** The request of a plaintext call, or one encrypted under a fresh DisperseKey. */
export function parametersFor(payload: string, registrationCode?: string): SoapParameters {
  if (registrationCode === undefined) return { EncryptData: payload, DisperseKey: '', MacValue: '' };
  const disperseKey = generateDisperseKey();
  const keys = parseRegistrationCode(registrationCode);
  const { encryptData, macValue } = encryptMessage(keys, disperseKey, payload);
  return { EncryptData: encryptData, DisperseKey: disperseKey, MacValue: macValue };
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** What .NET's SoapHttpClientProtocol writes: the wrapper in tempuri as the default namespace. */
export function dotNetEnvelope(
  version: SoapVersion,
  operation: string,
  parameters: SoapParameters,
  encoding = 'utf-8',
): string {
  const children = (['EncryptData', 'DisperseKey', 'MacValue'] as const)
    .filter((name) => parameters[name] !== undefined)
    .map((name) => `<${name}>${escapeXml(parameters[name] as string)}</${name}>`)
    .join('');
  return (
    `<?xml version="1.0" encoding="${encoding}"?>` +
    `<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
    `xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="${ENVELOPE_NAMESPACES[version]}">` +
    `<soap:Body><${operation} xmlns="http://tempuri.org/">${children}</${operation}></soap:Body>` +
    '</soap:Envelope>'
  );
}

/** What SoapUI's generated request looks like: `soapenv:` and `tem:` prefixes, an empty Header, indented. */
export function soapUiEnvelope(version: SoapVersion, operation: string, parameters: SoapParameters): string {
  const envelopePrefix = version === '1.1' ? 'soapenv' : 'soap';
  const children = (['EncryptData', 'DisperseKey', 'MacValue'] as const)
    .filter((name) => parameters[name] !== undefined)
    .map((name) => `         <tem:${name}>${escapeXml(parameters[name] as string)}</tem:${name}>\n`)
    .join('');
  return (
    `<${envelopePrefix}:Envelope xmlns:${envelopePrefix}="${ENVELOPE_NAMESPACES[version]}" ` +
    'xmlns:tem="http://tempuri.org/">\n' +
    `   <${envelopePrefix}:Header/>\n` +
    `   <${envelopePrefix}:Body>\n` +
    `      <tem:${operation}>\n` +
    '         <!--Optional:-->\n' +
    children +
    `      </tem:${operation}>\n` +
    `   </${envelopePrefix}:Body>\n` +
    `</${envelopePrefix}:Envelope>`
  );
}

export interface OpenedRawAnswer {
  problems: string[];
  json?: Record<string, unknown>;
  /** True when the answer came encrypted (and was verified and decrypted here). */
  encrypted: boolean;
}

/**
 * An answer through the wire checks, then opened: the JSON as sent (plaintext) or verified and
 * decrypted with the tenant's code; OpResult must equal the ReturnCode inside (DECISIONS §2.1).
 */
export function openRawAnswer(
  checker: WireChecker,
  answer: WireAnswer,
  transport: SoapVersion | 'rest',
  operation: OperationName,
  registrationCode?: string,
): OpenedRawAnswer {
  let text: string;
  let disperseKey: string;
  let macValue: string;
  let opResult: number | undefined;
  const problems: string[] = [];
  if (transport === 'rest') {
    const checked = checker.checkRest(answer);
    problems.push(...checked.problems);
    if (checked.values === undefined) return { problems, encrypted: false };
    ({ body: text, disperseKey, macValue } = checked.values);
  } else {
    const checked = checker.checkSoap(answer, operation, transport);
    problems.push(...checked.problems);
    if (checked.values === undefined) return { problems, encrypted: false };
    ({ encryptData: text, disperseKey, macValue, result: opResult } = checked.values);
  }

  const encrypted = disperseKey !== '' || macValue !== '';
  if (encrypted) {
    if (registrationCode === undefined) {
      return { problems: [...problems, 'a plaintext request got an encrypted answer'], encrypted };
    }
    try {
      text = verifyAndDecrypt(parseRegistrationCode(registrationCode), disperseKey, text, macValue);
    } catch (error) {
      return { problems: [...problems, `the answer does not open: ${(error as Error).message}`], encrypted };
    }
  }

  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { problems: [...problems, `the answer is not strict JSON: ${text.slice(0, 200)}`], encrypted };
  }
  if (opResult !== undefined && json.ReturnCode !== opResult) {
    problems.push(`OpResult ${opResult} but ReturnCode ${String(json.ReturnCode)}`);
  }
  return { problems, json, encrypted };
}
