import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { parseRegistrationCode } from './message-crypto';

const FORMAT_VERSION = 0x01;
const NONCE_SIZE = 12;
const CODE_SIZE = 32;
const TAG_SIZE = 16;
export const SEALED_CODE_SIZE = 1 + NONCE_SIZE + CODE_SIZE + TAG_SIZE;

/**
 * Seals registration codes for storage: AES-256-GCM under a key derived (HKDF-SHA256) from the
 * platform secret, a fresh random nonce per code, and the tenant id as associated data, so that
 * a sealed code copied onto another tenant's row does not open.
 *
 * Layout: version byte 01 ‖ 12-byte nonce ‖ 32-byte ciphertext ‖ 16-byte tag (61 bytes).
 */
export class CodeSealer {
  private readonly key: Buffer;

  constructor(platformSecret: Buffer) {
    if (platformSecret.length !== 32) throw new Error('the platform secret must be 32 bytes');
    this.key = Buffer.from(hkdfSync('sha256', platformSecret, Buffer.alloc(0), 'cnmcsp registration codes v1', 32));
  }

  /** `code` is a registration code (64 hex characters; parseRegistrationCode's errors apply). */
  seal(tenantId: number, code: string): Buffer {
    parseRegistrationCode(code);
    const nonce = randomBytes(NONCE_SIZE);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(associatedData(tenantId));
    const ciphertext = Buffer.concat([cipher.update(Buffer.from(code, 'hex')), cipher.final()]);

    return Buffer.concat([Buffer.of(FORMAT_VERSION), nonce, ciphertext, cipher.getAuthTag()]);
  }

  /**
   * The registration code, uppercase. Throws an Error (never showing the code) when the sealed
   * bytes were not made with this secret for this tenant, or were altered.
   */
  open(tenantId: number, sealed: Buffer): string {
    if (sealed.length !== SEALED_CODE_SIZE || sealed[0] !== FORMAT_VERSION) {
      throw new Error(`a sealed registration code is ${SEALED_CODE_SIZE} bytes of format 01`);
    }

    const nonce = sealed.subarray(1, 1 + NONCE_SIZE);
    const ciphertext = sealed.subarray(1 + NONCE_SIZE, 1 + NONCE_SIZE + CODE_SIZE);
    const tag = sealed.subarray(1 + NONCE_SIZE + CODE_SIZE);
    const decipher = createDecipheriv('aes-256-gcm', this.key, nonce);
    decipher.setAAD(associatedData(tenantId));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('hex').toUpperCase();
    } catch {
      throw new Error('it does not open with this platform secret (another secret, or altered bytes)');
    }
  }
}

function associatedData(tenantId: number): Buffer {
  return Buffer.from(`cnmcsp tenant ${tenantId}`, 'utf8');
}
