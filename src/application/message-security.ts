import { PlatformError } from '../domain/errors';
import type { Tenant } from '../domain/model';
import { ReturnCode } from '../domain/return-codes';
import type { InboundMessage } from '../transport/message';

/** An encrypted request, verified and decrypted: whose it is and what it says. */
export interface OpenedRequest {
  tenant: Tenant;
  payloadText: string;
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
  sealEncrypted(tenant: Tenant, payloadText: string): Promise<SealedResponse>;
}

/** DECISIONS §3.5: a request is plaintext when both DisperseKey and MacValue are empty. */
export function isPlaintextRequest(message: InboundMessage): boolean {
  return message.disperseKey.trim() === '' && message.macValue.trim() === '';
}

/** Used until tenant keys exist: an encrypted request gets a clear code, not a false success. */
export const encryptionUnavailable: MessageSecurity = {
  async openEncrypted() {
    throw new PlatformError(ReturnCode.NotSupportedYet, '加密传输尚未开通，请使用明文测试租户');
  },
  async sealEncrypted() {
    throw new Error('encryption is not available');
  },
};
