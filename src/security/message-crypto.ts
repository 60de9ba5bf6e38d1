/**
 * The message crypto of spec §4 as DECISIONS §3.1–§3.3 pins it down: per-tenant master keys from
 * the registration code, a per-message session key diversified by the DisperseKey, 3DES-CBC for
 * EncryptData and an ISO/IEC 9797-1 algorithm 3 (retail) MAC over the ciphertext for MacValue.
 *
 * Only `node:crypto` (OpenSSL 3) is used. Single DES is not in OpenSSL 3's default provider, so
 * every single-DES step runs as two-key 3DES with equal halves (K‖K): E_K(D_K(E_K(x))) = E_K(x).
 * OpenSSL's default provider does not refuse such keys, nor DES weak keys.
 *
 * Nothing here logs; keys and plaintext never leave this module except as return values.
 */
import { createCipheriv, createDecipheriv, randomInt, timingSafeEqual } from 'node:crypto';

import { PlatformError } from '../domain/errors';
import { ReturnCode } from '../domain/return-codes';

/** A tenant's two double-length 3DES master keys (DECISIONS §3.1). */
export interface TenantKeys {
  /** MKenc: characters 1–32 of the registration code. */
  readonly encryptionKey: Buffer;
  /** MKmac: characters 33–64 of the registration code. */
  readonly macKey: Buffer;
}

/** The two strings that travel with a DisperseKey in either direction (DECISIONS §3.3). */
export interface EncryptedMessage {
  readonly encryptData: string;
  readonly macValue: string;
}

const BLOCK_SIZE = 8;
const DOUBLE_KEY_SIZE = 16;
const ZERO_BLOCK = Buffer.alloc(BLOCK_SIZE);

const REGISTRATION_CODE_PATTERN = /^[0-9A-Fa-f]{64}$/;
const DISPERSE_KEY_PATTERN = /^[0-9]{16}$/;
const MAC_VALUE_PATTERN = /^[0-9A-Fa-f]{16}$/;

/**
 * Splits a registration code into MKenc and MKmac (DECISIONS §3.1). Hex case does not matter.
 * Throws an Error that never echoes the code, so it is safe to show at startup.
 */
export function parseRegistrationCode(code: string): TenantKeys {
  if (!REGISTRATION_CODE_PATTERN.test(code)) {
    throw new Error(
      `A registration code must be exactly 64 hexadecimal characters (0-9, A-F); ` +
        `the one given has ${code.length} characters` +
        (/^[0-9A-Fa-f]*$/.test(code) ? '' : ', some of them not hexadecimal'),
    );
  }

  const bytes = Buffer.from(code, 'hex');

  return {
    encryptionKey: bytes.subarray(0, DOUBLE_KEY_SIZE),
    macKey: bytes.subarray(DOUBLE_KEY_SIZE),
  };
}

/** True for exactly 16 ASCII decimal digits, the only DisperseKey DECISIONS §3.1 allows. */
export function isValidDisperseKey(value: string): boolean {
  return DISPERSE_KEY_PATTERN.test(value);
}

/**
 * A fresh DisperseKey for an outgoing message (DECISIONS §3.1): 16 independent, uniformly drawn
 * decimal digits from the CSPRNG behind `crypto.randomInt` (which itself rejects biased draws).
 * Leading zeros are kept: the value is a string of digits, not a number.
 */
export function generateDisperseKey(): string {
  let digits = '';
  for (let index = 0; index < 16; index += 1) {
    digits += randomInt(10).toString();
  }

  return digits;
}

/**
 * PBOC / EMV option A diversification (DECISIONS §3.2):
 * `3DES-ECB(MK, D) ‖ 3DES-ECB(MK, D xor FF..FF)`, where D is the DisperseKey read as 16 hex digits.
 */
export function deriveSessionKey(masterKey: Buffer, disperseKey: string): Buffer {
  assertDoubleLengthKey(masterKey, 'master key');
  if (!isValidDisperseKey(disperseKey)) {
    throw new Error('A DisperseKey must be exactly 16 decimal digits');
  }

  const block = Buffer.from(disperseKey, 'hex');
  const complement = Buffer.from(block.map((byte) => byte ^ 0xff));

  return Buffer.concat([
    tripleDesEncryptBlock(masterKey, block),
    tripleDesEncryptBlock(masterKey, complement),
  ]);
}

/**
 * Encrypts a payload for the wire (DECISIONS §3.3): EncryptData is Base64 of 3DES-CBC under SKenc
 * (IV zero, PKCS#7) of the UTF-8 text; MacValue is the retail MAC under SKmac of those ciphertext
 * bytes. The caller supplies a fresh DisperseKey (see `generateDisperseKey`) and sends it along.
 */
export function encryptMessage(
  keys: TenantKeys,
  disperseKey: string,
  plaintextJson: string,
): EncryptedMessage {
  const sessionEncryptionKey = deriveSessionKey(keys.encryptionKey, disperseKey);
  const sessionMacKey = deriveSessionKey(keys.macKey, disperseKey);

  const cipher = createCipheriv('des-ede-cbc', sessionEncryptionKey, ZERO_BLOCK);
  const ciphertext = Buffer.concat([cipher.update(plaintextJson, 'utf8'), cipher.final()]);

  return {
    encryptData: ciphertext.toString('base64'),
    macValue: computeMac(sessionMacKey, ciphertext),
  };
}

/**
 * ISO/IEC 9797-1 MAC algorithm 3, the ANSI X9.19 retail MAC (DECISIONS §3.3): padding method 2,
 * CBC with single DES under K1 (the left half of the key) from a zero IV, and on the last block
 * additionally decrypt with K2 and encrypt with K1. Returns all 8 bytes as 16 uppercase hex digits.
 *
 * The last block is computed as one 3DES-EDE(K1K2) step on (last block xor chaining value), which
 * is E_K1(D_K2(E_K1(·))): the final single-DES CBC step and the output transformation in one.
 */
export function computeMac(sessionMacKey: Buffer, data: Buffer): string {
  return computeMacBytes(sessionMacKey, data).toString('hex').toUpperCase();
}

/**
 * Checks and opens an incoming message (DECISIONS §3.3): the MAC is verified, in constant time,
 * before anything is decrypted, so nothing about an unauthenticated ciphertext (its padding, its
 * text) is ever revealed. Returns the payload text exactly as sent (a leading BOM is kept).
 *
 * Throws `PlatformError` with the code of DECISIONS §3.8:
 * - 80003001 (MacCheckFailed): MacValue wrong or not 16 hex digits; DisperseKey not 16 digits.
 *   A malformed DisperseKey gets 80003001 rather than 80002003 because §3.1 makes it an input of
 *   the key derivation: without it no SKmac exists, so the MAC cannot verify. 80002003 is the
 *   payload's code (DECISIONS §4), and the payload is not readable at this point.
 * - 80003002 (DecryptFailed): EncryptData not strict Base64, ciphertext not whole 8-byte blocks,
 *   bad PKCS#7 padding, or plaintext not valid UTF-8.
 *
 * Plaintext mode (DECISIONS §3.5, empty DisperseKey and MacValue) is decided by the caller before
 * this function is reached; here an empty DisperseKey is simply malformed.
 */
export function verifyAndDecrypt(
  keys: TenantKeys,
  disperseKey: string,
  encryptData: string,
  macValue: string,
): string {
  const ciphertext = checkMessageFormat(disperseKey, encryptData, macValue);
  if (!macMatches(keys, disperseKey, ciphertext, macValue)) {
    throw new PlatformError(ReturnCode.MacCheckFailed);
  }

  return decryptVerified(keys, disperseKey, ciphertext);
}

/**
 * Decrypts a ciphertext whose MAC the caller has just verified (`macMatches` or
 * `macMatchesYielding`) under the same keys and DisperseKey: 80003002 on bad padding or bad UTF-8.
 */
export function decryptVerified(keys: TenantKeys, disperseKey: string, ciphertext: Buffer): string {
  const sessionEncryptionKey = deriveSessionKey(keys.encryptionKey, disperseKey);
  return decodeUtf8(decryptCiphertext(sessionEncryptionKey, ciphertext));
}

/**
 * The checks of `verifyAndDecrypt` that need no key: DisperseKey and MacValue well formed
 * (80003001), EncryptData strict Base64 (80003002). Returns the ciphertext bytes. The platform runs
 * them once before trying a message against several tenants' keys (DECISIONS §3.6).
 */
export function checkMessageFormat(disperseKey: string, encryptData: string, macValue: string): Buffer {
  if (!isValidDisperseKey(disperseKey)) {
    throw new PlatformError(ReturnCode.MacCheckFailed, 'MAC 校验失败：DisperseKey 应为 16 位数字');
  }
  if (!MAC_VALUE_PATTERN.test(macValue)) {
    throw new PlatformError(ReturnCode.MacCheckFailed, 'MAC 校验失败：MacValue 应为 16 位十六进制字符');
  }

  return decodeStrictBase64(encryptData);
}

/**
 * True when `macValue` is the MAC of `ciphertext` under these keys, compared in constant time.
 * The inputs must have passed `checkMessageFormat`.
 */
export function macMatches(
  keys: TenantKeys,
  disperseKey: string,
  ciphertext: Buffer,
  macValue: string,
): boolean {
  const sessionMacKey = deriveSessionKey(keys.macKey, disperseKey);

  return timingSafeEqual(computeMacBytes(sessionMacKey, ciphertext), Buffer.from(macValue, 'hex'));
}

/** Bytes of MAC chain computed between two yields to the event loop (whole DES blocks). */
const MAC_SLICE_BYTES = 256 * 1024;

/**
 * `macMatches` for a message of any size without holding the process: the single-DES CBC chain
 * runs in slices of MAC_SLICE_BYTES, yielding to the event loop between them. The platform tries a
 * message on the shared path against every tenant's codes (DECISIONS §3.6); a 32 MB body with a
 * wrong MAC would otherwise stop every other request for seconds. Same result as `macMatches`.
 */
export async function macMatchesYielding(
  keys: TenantKeys,
  disperseKey: string,
  ciphertext: Buffer,
  macValue: string,
): Promise<boolean> {
  const sessionMacKey = deriveSessionKey(keys.macKey, disperseKey);
  assertDoubleLengthKey(sessionMacKey, 'MAC session key');

  const padded = padIsoMethod2(ciphertext);
  const leadingBlocks = padded.subarray(0, padded.length - BLOCK_SIZE);
  let chainingValue = ZERO_BLOCK;
  if (leadingBlocks.length > 0) {
    const cipher = singleDesCbc(sessionMacKey.subarray(0, BLOCK_SIZE));
    for (let offset = 0; offset < leadingBlocks.length; offset += MAC_SLICE_BYTES) {
      if (offset > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const output = cipher.update(leadingBlocks.subarray(offset, offset + MAC_SLICE_BYTES));
      chainingValue = Buffer.from(output.subarray(output.length - BLOCK_SIZE));
    }
    cipher.final();
  }
  const mac = finishMac(sessionMacKey, padded, chainingValue);
  return timingSafeEqual(mac, Buffer.from(macValue, 'hex'));
}

function computeMacBytes(sessionMacKey: Buffer, data: Buffer): Buffer {
  assertDoubleLengthKey(sessionMacKey, 'MAC session key');

  const padded = padIsoMethod2(data);
  const leadingBlocks = padded.subarray(0, padded.length - BLOCK_SIZE);
  const chainingValue = singleDesCbcLastBlock(sessionMacKey.subarray(0, BLOCK_SIZE), leadingBlocks);

  return finishMac(sessionMacKey, padded, chainingValue);
}

/** ISO/IEC 9797-1 MAC algorithm 3's output transformation: the last block under the double key. */
function finishMac(sessionMacKey: Buffer, padded: Buffer, chainingValue: Buffer): Buffer {
  const lastBlock = padded.subarray(padded.length - BLOCK_SIZE);
  return tripleDesEncryptBlock(sessionMacKey, xorBlocks(lastBlock, chainingValue));
}

/** ISO/IEC 9797-1 padding method 2: 0x80, then zeros up to a whole block; always adds something. */
function padIsoMethod2(data: Buffer): Buffer {
  const paddingLength = BLOCK_SIZE - (data.length % BLOCK_SIZE);
  const padding = Buffer.alloc(paddingLength);
  padding[0] = 0x80;

  return Buffer.concat([data, padding]);
}

/** The last output block of single-DES CBC (zero IV) over whole blocks; the IV itself if none. */
function singleDesCbcLastBlock(singleKey: Buffer, blocks: Buffer): Buffer {
  if (blocks.length === 0) {
    return ZERO_BLOCK;
  }

  const cipher = singleDesCbc(singleKey);
  const output = Buffer.concat([cipher.update(blocks), cipher.final()]);

  return output.subarray(output.length - BLOCK_SIZE);
}

/** Single-DES CBC with a zero IV, as 3DES with K‖K (OpenSSL 3 keeps plain DES out of its defaults). */
function singleDesCbc(singleKey: Buffer) {
  const cipher = createCipheriv('des-ede-cbc', Buffer.concat([singleKey, singleKey]), ZERO_BLOCK);
  cipher.setAutoPadding(false);
  return cipher;
}

function tripleDesEncryptBlock(doubleLengthKey: Buffer, block: Buffer): Buffer {
  const cipher = createCipheriv('des-ede', doubleLengthKey, null);
  cipher.setAutoPadding(false);

  return Buffer.concat([cipher.update(block), cipher.final()]);
}

function decryptCiphertext(sessionEncryptionKey: Buffer, ciphertext: Buffer): Buffer {
  if (ciphertext.length === 0 || ciphertext.length % BLOCK_SIZE !== 0) {
    throw new PlatformError(ReturnCode.DecryptFailed, '密文解密失败：密文长度不是 8 字节的整数倍');
  }

  const decipher = createDecipheriv('des-ede-cbc', sessionEncryptionKey, ZERO_BLOCK);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new PlatformError(ReturnCode.DecryptFailed, '密文解密失败：填充不正确');
  }
}

/**
 * Base64 with the standard alphabet and `=` padding, nothing else: Node's decoder silently skips
 * foreign characters (whitespace, `-`, `_`, garbage) and missing padding, so the decoded bytes are
 * re-encoded and must give back the input exactly. That also refuses non-zero trailing bits.
 */
function decodeStrictBase64(encryptData: string): Buffer {
  const bytes = Buffer.from(encryptData, 'base64');
  if (bytes.toString('base64') !== encryptData) {
    throw new PlatformError(ReturnCode.DecryptFailed, '密文解密失败：EncryptData 不是合法的 Base64');
  }

  return bytes;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Buffer): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new PlatformError(ReturnCode.DecryptFailed, '密文解密失败：明文不是合法的 UTF-8');
  }
}

function xorBlocks(left: Buffer, right: Buffer): Buffer {
  return Buffer.from(left.map((byte, index) => byte ^ right[index]));
}

function assertDoubleLengthKey(key: Buffer, what: string): void {
  if (key.length !== DOUBLE_KEY_SIZE) {
    throw new Error(`A ${what} must be 16 bytes (a double-length 3DES key), not ${key.length}`);
  }
}
