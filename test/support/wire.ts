import { OPERATIONS, type OperationName } from '../../src/domain/operations';
import { parseRegistrationCode, verifyAndDecrypt } from '../../src/security/message-crypto';
import type { WireMessage } from '../../src/client/cnmcsp-client';
import { restCall, soapCall } from './cis-client';

export type WireTransport = 'rest' | 'soap';

export interface WireAnswer {
  received: WireMessage;
  /** SOAP: OpResult; REST: undefined. */
  soapResult?: number;
}

/**
 * Sends the three strings of spec §4 exactly as given (tampered, replayed, malformed), over REST
 * or SOAP 1.1, to the plain path or to a tenant's prefix (`/cangnan`).
 */
export async function sendWire(
  baseUrl: string,
  transport: WireTransport,
  operation: OperationName,
  message: WireMessage,
  prefix = '',
): Promise<WireAnswer> {
  if (transport === 'rest') {
    const restPath = OPERATIONS.find((candidate) => candidate.name === operation)?.restPath as string;
    const answer = await restCall(baseUrl, `${prefix}/rest/Standard${restPath}`, message.encryptData, {
      DisperseKey: message.disperseKey,
      MacValue: message.macValue,
    });
    expect(answer.status).toBe(200);
    const received = {
      encryptData: answer.text,
      disperseKey: answer.headers.get('DisperseKey') ?? '',
      macValue: answer.headers.get('MacValue') ?? '',
    };
    return { received };
  }

  const { encryptData, disperseKey, macValue } = message;
  const answer = await soapCall(baseUrl, operation, encryptData, disperseKey, macValue, `${prefix}/WSI_MIDDataServices.asmx`);
  expect(answer.status).toBe(200);
  return {
    received: { encryptData: answer.encryptData, disperseKey: answer.disperseKey, macValue: answer.macValue },
    soapResult: answer.result,
  };
}

/** The answer's JSON: decrypted with the code when it came encrypted, as it is when plaintext. */
export function readAnswer(answer: WireAnswer, registrationCode?: string): Record<string, unknown> & { ReturnCode: number } {
  const { received } = answer;
  const encrypted = received.disperseKey !== '' || received.macValue !== '';
  if (encrypted && registrationCode === undefined) throw new Error('an encrypted answer needs the code to read');

  const text = encrypted
    ? verifyAndDecrypt(parseRegistrationCode(registrationCode as string), received.disperseKey, received.encryptData, received.macValue)
    : received.encryptData;
  const json = JSON.parse(text) as Record<string, unknown> & { ReturnCode: number };
  if (answer.soapResult !== undefined) expect(answer.soapResult).toBe(json.ReturnCode);
  return json;
}
