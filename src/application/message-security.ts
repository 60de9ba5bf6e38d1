import type { Tenant } from '../domain/model';
import type { InboundMessage } from '../transport/message';

/** An encrypted request, verified and decrypted: whose it is and what it says. */
export interface OpenedRequest {
  tenant: Tenant;
  payloadText: string;
  /**
   * Which of the tenant's registration codes verified the request. Its answer is sealed with the
   * same code, so that a gas company still on its previous code during a rotation overlap can
   * read the answers too.
   */
  credentialId?: number;
}

export interface SealedResponse {
  encryptData: string;
  disperseKey: string;
  macValue: string;
}

/**
 * The encrypted half of spec §4 (DECISIONS §3): verifying, decrypting and replay-checking a
 * request, and encrypting the answer under a fresh DisperseKey. Plaintext needs none of it.
 */
export interface MessageSecurity {
  openEncrypted(message: InboundMessage): Promise<OpenedRequest>;
  /** Seals with the code that opened `inReplyTo`, else with the tenant's current code (pushes). */
  sealEncrypted(tenant: Tenant, payloadText: string, inReplyTo?: OpenedRequest): Promise<SealedResponse>;
}

/** DECISIONS §3.5: a request is plaintext when both DisperseKey and MacValue are empty. */
export function isPlaintextRequest(message: InboundMessage): boolean {
  return message.disperseKey.trim() === '' && message.macValue.trim() === '';
}
