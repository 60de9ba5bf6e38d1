import { createCipheriv, randomBytes, randomInt } from 'node:crypto';
import forge from 'node-forge';

import { PlatformError } from '../../src/domain/errors';
import { ReturnCode } from '../../src/domain/return-codes';
import {
  computeMac,
  deriveSessionKey,
  encryptMessage,
  generateDisperseKey,
  isValidDisperseKey,
  macMatches,
  macMatchesYielding,
  parseRegistrationCode,
  type EncryptedMessage,
  type TenantKeys,
  verifyAndDecrypt,
} from '../../src/security/message-crypto';

/** DECISIONS §3.4. */
const example = {
  registrationCode: '0123456789ABCDEFFEDCBA98765432100F1E2D3C4B5A69788796A5B4C3D2E1F0',
  disperseKey: '3815092746153820',
  payload: '{"UserID":"KYNYN144860","MeterID":"012345678912","DataFrom":"苍南仪表集团"}',
  encryptData:
    'jdvlcmcCETq1hm+yGd/YwNkbxObo5fv48hgucwDktLIW4ohyrcrpTTub2e2cwU4Xfobl6dMWgMdB7QQd/U9Nfzf7hzc' +
    'N/Xx0+Ug7pVUqtOdMUOaMMqRwtg==',
  macValue: '7D71D4B825462534',
};

const exampleKeys = parseRegistrationCode(example.registrationCode);

// ---------------------------------------------------------------------------------------------
// An independent implementation on node-forge's DES primitives, written from DECISIONS §3.2–§3.3
// the literal way (full CBC-MAC, then D_K2 and E_K1), to cross-check the OpenSSL-based module.
// ---------------------------------------------------------------------------------------------

type ForgeAlgorithm = 'DES-ECB' | 'DES-CBC' | '3DES-ECB' | '3DES-CBC';

/** forge's typings omit finish's padding callback; `() => true` turns padding off. */
type FinishWithPadding = (pad: () => boolean) => boolean;

function forgeRun(
  algorithm: ForgeAlgorithm,
  direction: 'encrypt' | 'decrypt',
  key: Buffer,
  data: Buffer,
  options: { iv?: Buffer; pkcs7?: boolean } = {},
): Buffer {
  const keyBytes = forge.util.createBuffer(key.toString('binary'));
  const cipher =
    direction === 'encrypt'
      ? forge.cipher.createCipher(algorithm, keyBytes)
      : forge.cipher.createDecipher(algorithm, keyBytes);
  cipher.start(options.iv ? { iv: options.iv.toString('binary') } : {});
  cipher.update(forge.util.createBuffer(data.toString('binary')));
  if (options.pkcs7) {
    cipher.finish();
  } else {
    (cipher.finish as unknown as FinishWithPadding)(() => true);
  }

  return Buffer.from(cipher.output.getBytes(), 'binary');
}

/** Two-key 3DES as forge wants it: a 24-byte K1K2K1 key. */
function forgeTripleKey(doubleLengthKey: Buffer): Buffer {
  return Buffer.concat([doubleLengthKey, doubleLengthKey.subarray(0, 8)]);
}

function forgeDeriveSessionKey(masterKey: Buffer, disperseKey: string): Buffer {
  const block = Buffer.from(disperseKey, 'hex');
  const complement = Buffer.from(block.map((byte) => 255 - byte));
  const key = forgeTripleKey(masterKey);

  return Buffer.concat([
    forgeRun('3DES-ECB', 'encrypt', key, block),
    forgeRun('3DES-ECB', 'encrypt', key, complement),
  ]);
}

function forgeRetailMac(sessionMacKey: Buffer, data: Buffer): string {
  const left = sessionMacKey.subarray(0, 8);
  const right = sessionMacKey.subarray(8, 16);
  const padding = Buffer.alloc(8 - (data.length % 8));
  padding[0] = 0x80;
  const padded = Buffer.concat([data, padding]);

  const cbc = forgeRun('DES-CBC', 'encrypt', left, padded, { iv: Buffer.alloc(8) });
  const lastBlock = cbc.subarray(cbc.length - 8);
  const afterRightKey = forgeRun('DES-ECB', 'decrypt', right, lastBlock);
  const mac = forgeRun('DES-ECB', 'encrypt', left, afterRightKey);

  return mac.toString('hex').toUpperCase();
}

function forgeEncrypt(sessionEncryptionKey: Buffer, plaintext: Buffer): Buffer {
  return forgeRun('3DES-CBC', 'encrypt', forgeTripleKey(sessionEncryptionKey), plaintext, {
    iv: Buffer.alloc(8),
    pkcs7: true,
  });
}

// ---------------------------------------------------------------------------------------------

function randomDisperseKey(): string {
  return Array.from({ length: 16 }, () => randomInt(10)).join('');
}

function randomRegistrationCode(): string {
  return randomBytes(32).toString('hex');
}

/** Any bytes as an authenticated ciphertext: valid Base64 and a correct MAC over them. */
function authenticate(keys: TenantKeys, disperseKey: string, ciphertext: Buffer) {
  return {
    encryptData: ciphertext.toString('base64'),
    macValue: computeMac(deriveSessionKey(keys.macKey, disperseKey), ciphertext),
  };
}

/** 3DES-CBC under the session key with no padding added: the caller's bytes are the blocks. */
function encryptBlocksUnpadded(keys: TenantKeys, disperseKey: string, blocks: Buffer): Buffer {
  const cipher = createCipheriv(
    'des-ede-cbc',
    deriveSessionKey(keys.encryptionKey, disperseKey),
    Buffer.alloc(8),
  );
  cipher.setAutoPadding(false);

  return Buffer.concat([cipher.update(blocks), cipher.final()]);
}

function openMessage(message: EncryptedMessage, disperseKey = example.disperseKey): string {
  return verifyAndDecrypt(exampleKeys, disperseKey, message.encryptData, message.macValue);
}

function expectPlatformError(action: () => unknown, code: number): PlatformError {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }

  expect(thrown).toBeInstanceOf(PlatformError);
  expect((thrown as PlatformError).code).toBe(code);
  return thrown as PlatformError;
}

function flipBit(buffer: Buffer, bit: number): Buffer {
  const copy = Buffer.from(buffer);
  copy[bit >> 3] ^= 1 << (bit & 7);
  return copy;
}

describe('registration code (DECISIONS §3.1)', () => {
  test('gives the encryption master key (characters 1-32) and the MAC master key (33-64)', () => {
    expect(exampleKeys.encryptionKey.toString('hex').toUpperCase()).toBe(
      '0123456789ABCDEFFEDCBA9876543210',
    );
    expect(exampleKeys.macKey.toString('hex').toUpperCase()).toBe(
      '0F1E2D3C4B5A69788796A5B4C3D2E1F0',
    );
  });

  test('is read the same in lowercase', () => {
    const lower = parseRegistrationCode(example.registrationCode.toLowerCase());

    expect(lower.encryptionKey.equals(exampleKeys.encryptionKey)).toBe(true);
    expect(lower.macKey.equals(exampleKeys.macKey)).toBe(true);
  });

  test.each([
    ['63 characters', example.registrationCode.slice(1)],
    ['65 characters', example.registrationCode + '0'],
    ['a non-hex character', 'G' + example.registrationCode.slice(1)],
    ['surrounding spaces', ` ${example.registrationCode} `],
    ['nothing', ''],
  ])('is refused with a clear error when it has %s, without echoing the code', (_, code) => {
    expect(() => parseRegistrationCode(code)).toThrow(/exactly 64 hexadecimal characters/);
    expect(() => parseRegistrationCode(code)).not.toThrow(example.registrationCode.slice(8, 40));
  });
});

describe('DisperseKey (DECISIONS §3.1)', () => {
  test('is valid only as exactly 16 ASCII decimal digits', () => {
    expect(isValidDisperseKey('3815092746153820')).toBe(true);
    expect(isValidDisperseKey('0000000000000000')).toBe(true);

    for (const invalid of [
      '',
      '381509274615382',
      '38150927461538201',
      '381509274615382A',
      ' 3815092746153820',
      '3815092746153820\n',
      '３８１５０９２７４６１５３８２０',
      '٣٨١٥٠٩٢٧٤٦١٥٣٨٢٠',
      '-815092746153820',
    ]) {
      expect(isValidDisperseKey(invalid)).toBe(false);
    }
  });

  test('is generated as 16 decimal digits', () => {
    for (let draw = 0; draw < 100; draw += 1) {
      expect(generateDisperseKey()).toMatch(/^[0-9]{16}$/);
    }
  });

  test('is never repeated in 1000 generated keys', () => {
    const keys = Array.from({ length: 1000 }, () => generateDisperseKey());

    expect(new Set(keys).size).toBe(1000);
  });

  test('is generated with every digit appearing in every position', () => {
    const seen = Array.from({ length: 16 }, () => new Set<string>());
    for (let draw = 0; draw < 1000; draw += 1) {
      [...generateDisperseKey()].forEach((digit, position) => seen[position].add(digit));
    }

    expect(seen.map((digits) => digits.size)).toEqual(Array(16).fill(10));
  });
});

describe('worked example (DECISIONS §3.4)', () => {
  test('encrypts to exactly the EncryptData and MacValue of DECISIONS §3.4', () => {
    const message = encryptMessage(exampleKeys, example.disperseKey, example.payload);

    expect(message.encryptData).toBe(example.encryptData);
    expect(message.macValue).toBe(example.macValue);
  });

  test('decrypts back to the payload', () => {
    expect(
      verifyAndDecrypt(exampleKeys, example.disperseKey, example.encryptData, example.macValue),
    ).toBe(example.payload);
  });

  test('accepts the MacValue in lowercase', () => {
    const macValue = example.macValue.toLowerCase();

    expect(verifyAndDecrypt(exampleKeys, example.disperseKey, example.encryptData, macValue)).toBe(
      example.payload,
    );
  });

  test('passes through the session keys and lengths documented in docs/security.md', () => {
    const sessionEncryptionKey = deriveSessionKey(exampleKeys.encryptionKey, example.disperseKey);
    const sessionMacKey = deriveSessionKey(exampleKeys.macKey, example.disperseKey);
    const ciphertext = Buffer.from(example.encryptData, 'base64');

    expect(sessionEncryptionKey.toString('hex').toUpperCase()).toBe(
      '67FBFED81D5431E2870CDBB974078261',
    );
    expect(sessionMacKey.toString('hex').toUpperCase()).toBe('DCF28EDC8B1B1BDB2903BBEDAC2113B4');
    expect(Buffer.byteLength(example.payload)).toBe(81);
    expect(ciphertext.length).toBe(88);
    expect(computeMac(sessionMacKey, ciphertext)).toBe(example.macValue);
  });

  test('passes through the MAC values documented in docs/security.md', () => {
    const sessionMacKey = deriveSessionKey(exampleKeys.macKey, example.disperseKey);
    const [left, right] = [sessionMacKey.subarray(0, 8), sessionMacKey.subarray(8)];
    const ciphertext = Buffer.from(example.encryptData, 'base64');
    const padded = Buffer.concat([ciphertext, Buffer.from('8000000000000000', 'hex')]);

    const cbc = forgeRun('DES-CBC', 'encrypt', left, padded, { iv: Buffer.alloc(8) });
    const lastBlock = cbc.subarray(cbc.length - 8);
    const afterRightKey = forgeRun('DES-ECB', 'decrypt', right, lastBlock);

    expect(lastBlock.toString('hex').toUpperCase()).toBe('F7D03A2FEF1F1147');
    expect(afterRightKey.toString('hex').toUpperCase()).toBe('70168198FE8E4E1A');
  });
});

describe('round trips', () => {
  test.each([0, 7, 8, 9, 4096])(
    'a payload of %i bytes comes back unchanged, padded to the next whole block',
    (length) => {
      const payload = 'x'.repeat(length);
      const disperseKey = generateDisperseKey();

      const message = encryptMessage(exampleKeys, disperseKey, payload);

      const ciphertextLength = Buffer.from(message.encryptData, 'base64').length;
      expect(ciphertextLength).toBe((Math.floor(length / 8) + 1) * 8);
      expect(message.macValue).toMatch(/^[0-9A-F]{16}$/);
      expect(openMessage(message, disperseKey)).toBe(payload);
    },
  );

  test('Chinese text and characters outside the BMP come back unchanged', () => {
    const payload = JSON.stringify({
      DataFrom: '苍南仪表集团',
      ReturnMessage: '接口功能执行成功',
      Note: '燃气 𠮷 🔥',
    });
    const disperseKey = generateDisperseKey();

    const message = encryptMessage(exampleKeys, disperseKey, payload);

    expect(openMessage(message, disperseKey)).toBe(payload);
  });

  test('the same payload encrypts differently under another DisperseKey', () => {
    const first = encryptMessage(exampleKeys, '0000000000000001', example.payload);
    const second = encryptMessage(exampleKeys, '0000000000000002', example.payload);

    expect(first.encryptData).not.toBe(second.encryptData);
    expect(first.macValue).not.toBe(second.macValue);
  });
});

describe('agreement with an independent node-forge implementation', () => {
  test('session keys agree for 200 random master keys and DisperseKeys', () => {
    for (let round = 0; round < 200; round += 1) {
      const masterKey = randomBytes(16);
      const disperseKey = randomDisperseKey();

      expect(deriveSessionKey(masterKey, disperseKey).toString('hex')).toBe(
        forgeDeriveSessionKey(masterKey, disperseKey).toString('hex'),
      );
    }
  });

  test('MACs agree for 500 random keys and messages of 0 to 100 bytes', () => {
    for (let round = 0; round < 500; round += 1) {
      const key = randomBytes(16);
      const data = randomBytes(round % 101);

      expect(computeMac(key, data)).toBe(forgeRetailMac(key, data));
    }
  });

  test('MACs agree for keys whose halves are equal or are DES weak keys', () => {
    const weak = Buffer.from('0101010101010101', 'hex');
    const semiWeak = Buffer.from('01FE01FE01FE01FE', 'hex');
    const ordinary = randomBytes(8);
    const keys = [
      Buffer.concat([ordinary, ordinary]),
      Buffer.concat([weak, ordinary]),
      Buffer.concat([ordinary, semiWeak]),
      Buffer.concat([weak, weak]),
    ];

    for (const key of keys) {
      for (const length of [0, 8, 17]) {
        const data = randomBytes(length);
        expect(computeMac(key, data)).toBe(forgeRetailMac(key, data));
      }
    }
  });

  test('ciphertexts and MACs agree for 100 random registration codes and payloads', () => {
    for (let round = 0; round < 100; round += 1) {
      const keys = parseRegistrationCode(randomRegistrationCode());
      const disperseKey = randomDisperseKey();
      const payload = randomBytes(randomInt(0, 200)).toString('base64') + '苍南';

      const message = encryptMessage(keys, disperseKey, payload);

      const sessionEncryptionKey = forgeDeriveSessionKey(keys.encryptionKey, disperseKey);
      const sessionMacKey = forgeDeriveSessionKey(keys.macKey, disperseKey);
      const ciphertext = forgeEncrypt(sessionEncryptionKey, Buffer.from(payload, 'utf8'));
      expect(message.encryptData).toBe(ciphertext.toString('base64'));
      expect(message.macValue).toBe(forgeRetailMac(sessionMacKey, ciphertext));
    }
  });

  test('the worked example comes out the same', () => {
    const { disperseKey } = example;
    const sessionEncryptionKey = forgeDeriveSessionKey(exampleKeys.encryptionKey, disperseKey);
    const sessionMacKey = forgeDeriveSessionKey(exampleKeys.macKey, disperseKey);

    const ciphertext = forgeEncrypt(sessionEncryptionKey, Buffer.from(example.payload, 'utf8'));

    expect(ciphertext.toString('base64')).toBe(example.encryptData);
    expect(forgeRetailMac(sessionMacKey, ciphertext)).toBe(example.macValue);
  });
});

describe('verification failures (DECISIONS §3.8)', () => {
  const ciphertext = Buffer.from(example.encryptData, 'base64');
  const open = (
    encryptData: string,
    macValue = example.macValue,
    disperseKey = example.disperseKey,
  ) =>
    verifyAndDecrypt(exampleKeys, disperseKey, encryptData, macValue);

  test('every flipped bit of the ciphertext is a MAC failure, 80003001', () => {
    for (let bit = 0; bit < ciphertext.length * 8; bit += 1) {
      expectPlatformError(
        () => open(flipBit(ciphertext, bit).toString('base64')),
        ReturnCode.MacCheckFailed,
      );
    }
  });

  test('every flipped bit of the MacValue is a MAC failure, 80003001', () => {
    const mac = Buffer.from(example.macValue, 'hex');
    for (let bit = 0; bit < 64; bit += 1) {
      const macValue = flipBit(mac, bit).toString('hex').toUpperCase();
      expectPlatformError(() => open(example.encryptData, macValue), ReturnCode.MacCheckFailed);
    }
  });

  test('a message made with another registration code is a MAC failure, 80003001', () => {
    const otherKeys = parseRegistrationCode(randomRegistrationCode());
    const message = encryptMessage(otherKeys, example.disperseKey, example.payload);

    expectPlatformError(() => openMessage(message), ReturnCode.MacCheckFailed);
  });

  test('a message read with another DisperseKey is a MAC failure, 80003001', () => {
    expectPlatformError(
      () => open(example.encryptData, example.macValue, '3815092746153821'),
      ReturnCode.MacCheckFailed,
    );
  });

  test('a message whose MAC key is right but encryption key is wrong cannot be opened', () => {
    const mixedKeys = { encryptionKey: randomBytes(16), macKey: exampleKeys.macKey };
    const message = encryptMessage(mixedKeys, example.disperseKey, example.payload);

    expect(() => openMessage(message)).toThrow(PlatformError);
  });

  test.each([
    ['no characters', ''],
    ['15 digits', example.macValue.slice(1)],
    ['17 digits', example.macValue + '0'],
    ['a non-hex character', 'G' + example.macValue.slice(1)],
    ['surrounding spaces', ` ${example.macValue} `],
    ['a 0x prefix', '0x' + example.macValue.slice(2)],
  ])('a MacValue with %s is a MAC failure, 80003001', (_, macValue) => {
    expectPlatformError(() => open(example.encryptData, macValue), ReturnCode.MacCheckFailed);
  });

  test.each([
    ['no characters', ''],
    ['15 digits', '381509274615382'],
    ['17 digits', '38150927461538201'],
    ['a hexadecimal digit', '381509274615382A'],
    ['full-width digits', '３８１５０９２７４６１５３８２０'],
  ])('a DisperseKey with %s is a MAC failure, 80003001', (_, disperseKey) => {
    expectPlatformError(
      () => open(example.encryptData, example.macValue, disperseKey),
      ReturnCode.MacCheckFailed,
    );
  });

  test.each([
    ['a character outside the alphabet', example.encryptData.replace('+', '*')],
    ['a line break', example.encryptData.slice(0, 76) + '\n' + example.encryptData.slice(76)],
    ['a trailing line break', example.encryptData + '\r\n'],
    ['surrounding spaces', ` ${example.encryptData} `],
    ['no padding', example.encryptData.replace(/=+$/, '')],
    ['too much padding', example.encryptData + '=='],
    ['URL-safe characters', example.encryptData.replace(/\+/g, '-').replace(/\//g, '_')],
    ['a length that is not a multiple of 4', example.encryptData.slice(0, -3)],
    ['non-zero bits after the last byte', example.encryptData.replace(/g==$/, 'h==')],
    ['a data URL prefix', 'data:,' + example.encryptData],
  ])('EncryptData with %s is a decryption failure, 80003002', (_, encryptData) => {
    expectPlatformError(() => open(encryptData), ReturnCode.DecryptFailed);
  });

  test('an authenticated ciphertext that is not whole 8-byte blocks is 80003002', () => {
    for (const length of [1, 7, 12, 87]) {
      const message = authenticate(exampleKeys, example.disperseKey, randomBytes(length));

      expectPlatformError(() => openMessage(message), ReturnCode.DecryptFailed);
    }
  });

  test('an authenticated empty ciphertext is 80003002', () => {
    const message = authenticate(exampleKeys, example.disperseKey, Buffer.alloc(0));

    expectPlatformError(() => openMessage(message), ReturnCode.DecryptFailed);
  });

  test.each([
    ['a zero padding byte', '{"a":1}\x00'],
    ['a padding byte above 8', '{"a":1}\x09'],
    ['inconsistent padding bytes', '{"a":\x01\x03\x03'],
    ['no padding block', '{"a":1}'.padEnd(16, ' ')],
  ])('an authenticated ciphertext with %s is 80003002', (_, blocks) => {
    const plaintextBlocks = Buffer.from(blocks, 'latin1');
    const raw = encryptBlocksUnpadded(exampleKeys, example.disperseKey, plaintextBlocks);
    const message = authenticate(exampleKeys, example.disperseKey, raw);

    expectPlatformError(() => openMessage(message), ReturnCode.DecryptFailed);
  });

  test.each([
    ['a truncated sequence', [0x7b, 0xe8, 0x8b]],
    ['an overlong encoding', [0x7b, 0xc0, 0xaf]],
    ['an encoded surrogate', [0x7b, 0xed, 0xa0, 0x80]],
    ['a stray continuation byte', [0x7b, 0x80]],
  ])('an authenticated plaintext with %s of UTF-8 is 80003002', (_, bytes) => {
    const plaintext = Buffer.from(bytes);
    const padding = 8 - (plaintext.length % 8);
    const blocks = Buffer.concat([plaintext, Buffer.alloc(padding, padding)]);
    const raw = encryptBlocksUnpadded(exampleKeys, example.disperseKey, blocks);
    const message = authenticate(exampleKeys, example.disperseKey, raw);

    expectPlatformError(() => openMessage(message), ReturnCode.DecryptFailed);
  });

  test('a tampered last block reports the MAC, never the padding it breaks', () => {
    const lastBlockStart = (ciphertext.length - 8) * 8;
    for (let bit = lastBlockStart; bit < ciphertext.length * 8; bit += 1) {
      const error = expectPlatformError(
        () => open(flipBit(ciphertext, bit).toString('base64')),
        ReturnCode.MacCheckFailed,
      );
      expect(error.message).toBe('MAC 校验失败');
    }
  });

  test('a leading byte-order mark is returned as it was sent', () => {
    const disperseKey = generateDisperseKey();
    const message = encryptMessage(exampleKeys, disperseKey, '\uFEFF{}');

    expect(openMessage(message, disperseKey)).toBe('\uFEFF{}');
  });
});

describe('programming errors', () => {
  test('deriving from a master key that is not 16 bytes throws', () => {
    expect(() => deriveSessionKey(randomBytes(24), example.disperseKey)).toThrow(/16 bytes/);
  });

  test('encrypting under a DisperseKey that is not 16 digits throws a plain Error', () => {
    expect(() => encryptMessage(exampleKeys, '12345', '{}')).toThrow(/16 decimal digits/);
    expect(() => encryptMessage(exampleKeys, '12345', '{}')).not.toThrow(PlatformError);
  });

  test('computing a MAC under a key that is not 16 bytes throws', () => {
    expect(() => computeMac(randomBytes(8), Buffer.alloc(0))).toThrow(/16 bytes/);
  });
});

describe('MAC check of large messages without holding the process', () => {
  const SLICE = 256 * 1024;

  test('macMatchesYielding agrees with macMatches on both sides of every slice boundary', async () => {
    const disperseKey = generateDisperseKey();
    for (const size of [0, 1, 7, 8, 9, SLICE - 8, SLICE, SLICE + 8, 3 * SLICE + 5]) {
      const ciphertext = randomBytes(size);
      const right = computeMac(deriveSessionKey(exampleKeys.macKey, disperseKey), ciphertext);
      const wrong = right.replace(/^./, (digit) => (digit === '0' ? '1' : '0'));

      expect([size, await macMatchesYielding(exampleKeys, disperseKey, ciphertext, right)]).toEqual([size, true]);
      expect([size, macMatches(exampleKeys, disperseKey, ciphertext, right)]).toEqual([size, true]);
      expect([size, await macMatchesYielding(exampleKeys, disperseKey, ciphertext, wrong)]).toEqual([size, false]);
    }
  });

  test('agrees with the worked example (DECISIONS §3.4)', async () => {
    const ciphertext = Buffer.from(example.encryptData, 'base64');
    expect(await macMatchesYielding(exampleKeys, example.disperseKey, ciphertext, example.macValue)).toBe(true);
  });

  test('lets other work run while it checks a large message', async () => {
    const ciphertext = randomBytes(4 * 1024 * 1024);
    let turns = 0;
    let checking = true;
    const other = () => {
      turns += 1;
      if (checking) setImmediate(other);
    };
    setImmediate(other);

    const matched = await macMatchesYielding(exampleKeys, generateDisperseKey(), ciphertext, '0000000000000000');
    checking = false;

    expect(matched).toBe(false);
    // 16 slices: the other task got a turn between them, not only after the whole check.
    expect(turns).toBeGreaterThanOrEqual(8);
  });
});
