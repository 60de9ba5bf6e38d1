/**
 * The C# client of clients/csharp, compiled with mcs and run under mono, must agree with the
 * platform's message crypto (DECISIONS §3.1–§3.4) in both directions.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ReturnCode } from '../../src/domain/return-codes';
import {
  computeMac,
  deriveSessionKey,
  encryptMessage,
  generateDisperseKey,
  parseRegistrationCode,
  verifyAndDecrypt,
} from '../../src/security/message-crypto';
import { describeIfTools } from '../support/interop';

const sourceDirectory = join(__dirname, '..', '..', 'clients', 'csharp');

const example = {
  registrationCode: '0123456789ABCDEFFEDCBA98765432100F1E2D3C4B5A69788796A5B4C3D2E1F0',
  disperseKey: '3815092746153820',
  payload: '{"UserID":"KYNYN144860","MeterID":"012345678912","DataFrom":"苍南仪表集团"}',
  encryptData:
    'jdvlcmcCETq1hm+yGd/YwNkbxObo5fv48hgucwDktLIW4ohyrcrpTTub2e2cwU4Xfobl6dMWgMdB7QQd/U9Nfzf7hzc' +
    'N/Xx0+Ug7pVUqtOdMUOaMMqRwtg==',
  macValue: '7D71D4B825462534',
};

const payloads = [
  example.payload,
  '',
  'a'.repeat(7),
  'a'.repeat(8),
  'a'.repeat(9),
  JSON.stringify({ ReturnMessage: '接口功能执行成功', Note: '𠮷🔥' }).padEnd(4096, ' '),
];

interface ProgramResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

interface WireMessage {
  disperseKey: string;
  encryptData: string;
  macValue: string;
}

describeIfTools(['mcs', 'mono'], 'C# client (clients/csharp) under mono', () => {
  let buildDirectory: string;
  let program: string;

  beforeAll(() => {
    buildDirectory = mkdtempSync(join(tmpdir(), 'cnmcsp-csharp-'));
    program = join(buildDirectory, 'WorkedExample.exe');
    execFileSync(
      'mcs',
      [
        '-langversion:7',
        '-warnaserror+',
        `-out:${program}`,
        join(sourceDirectory, 'CnmcspCrypto.cs'),
        join(sourceDirectory, 'WorkedExample.cs'),
      ],
      { stdio: 'pipe' },
    );
  });

  afterAll(() => {
    if (buildDirectory) {
      rmSync(buildDirectory, { recursive: true, force: true });
    }
  });

  function run(args: string[], input = ''): ProgramResult {
    const result = spawnSync('mono', [program, ...args], { input, encoding: 'utf8' });
    if (result.error) {
      throw result.error;
    }

    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  function runOrFail(args: string[], input = ''): string {
    const result = run(args, input);
    if (result.status !== 0) {
      throw new Error(`mono ${args[0]} exited with ${result.status}: ${result.stderr}`);
    }

    return result.stdout;
  }

  function parseWireMessage(stdout: string): WireMessage {
    const fields = new Map(
      stdout
        .trimEnd()
        .split('\n')
        .map((line) => line.split(': ') as [string, string]),
    );

    return {
      disperseKey: fields.get('DisperseKey') ?? '',
      encryptData: fields.get('EncryptData') ?? '',
      macValue: fields.get('MacValue') ?? '',
    };
  }

  test('prints the EncryptData and MacValue of the worked example (DECISIONS §3.4)', () => {
    const printed = parseWireMessage(runOrFail([]));

    expect(printed).toEqual({
      disperseKey: example.disperseKey,
      encryptData: example.encryptData,
      macValue: example.macValue,
    });
  });

  test('encrypts messages, under DisperseKeys it draws itself, that the platform opens', () => {
    const registrationCode = randomBytes(32).toString('hex');
    const keys = parseRegistrationCode(registrationCode);

    for (const payload of payloads) {
      const message = parseWireMessage(runOrFail(['encrypt', registrationCode], payload));

      expect(message.disperseKey).toMatch(/^[0-9]{16}$/);
      expect(
        verifyAndDecrypt(keys, message.disperseKey, message.encryptData, message.macValue),
      ).toBe(payload);
    }
  });

  test('opens messages that the platform encrypted', () => {
    const registrationCode = randomBytes(32).toString('hex').toUpperCase();
    const keys = parseRegistrationCode(registrationCode);

    for (const payload of payloads) {
      const disperseKey = generateDisperseKey();
      const { encryptData, macValue } = encryptMessage(keys, disperseKey, payload);

      const args = ['decrypt', registrationCode, disperseKey, encryptData, macValue.toLowerCase()];
      expect(runOrFail(args)).toBe(payload);
    }
  });

  test('derives the session keys the platform derives, also from keys with equal halves', () => {
    const half = randomBytes(8);
    const masterKeys = [
      randomBytes(16),
      randomBytes(16),
      Buffer.concat([half, half]),
      Buffer.concat([half, Buffer.from(half.map((byte) => byte ^ 0x01))]),
    ];

    for (const masterKey of masterKeys) {
      const disperseKey = generateDisperseKey();
      const expected = deriveSessionKey(masterKey, disperseKey).toString('hex').toUpperCase();

      expect(runOrFail(['derive', masterKey.toString('hex'), disperseKey]).trim()).toBe(expected);
    }
  });

  test('computes the MAC the platform computes for random keys and lengths', () => {
    for (const length of [0, 1, 7, 8, 9, 16, randomInt(17, 300)]) {
      const key = randomBytes(16);
      const data = randomBytes(length);

      const args = ['mac', key.toString('hex'), data.toString('hex')];
      expect(runOrFail(args).trim()).toBe(computeMac(key, data));
    }
  });

  test('rejects a tampered MacValue with 80003001', () => {
    const { registrationCode, disperseKey, encryptData } = example;

    const result = run(['decrypt', registrationCode, disperseKey, encryptData, '7D71D4B825462535']);

    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(new RegExp(`^${ReturnCode.MacCheckFailed} `));
  });

  test('rejects EncryptData that is not strict Base64 with 80003002', () => {
    const { registrationCode, disperseKey, encryptData, macValue } = example;
    const withLineBreak = `${encryptData.slice(0, 76)}\n${encryptData.slice(76)}`;

    const result = run(['decrypt', registrationCode, disperseKey, withLineBreak, macValue]);

    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(new RegExp(`^${ReturnCode.DecryptFailed} `));
  });

  test('rejects an authenticated ciphertext that is not whole blocks with 80003002', () => {
    const { registrationCode, disperseKey } = example;
    const keys = parseRegistrationCode(registrationCode);
    const ciphertext = randomBytes(12);
    const macValue = computeMac(deriveSessionKey(keys.macKey, disperseKey), ciphertext);

    const encryptData = ciphertext.toString('base64');

    const result = run(['decrypt', registrationCode, disperseKey, encryptData, macValue]);

    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(new RegExp(`^${ReturnCode.DecryptFailed} `));
  });

  test('never yields a wrong MAC under a DES weak key half; mono refuses such a key', () => {
    const key = Buffer.concat([Buffer.from('0101010101010101', 'hex'), randomBytes(8)]);
    const data = randomBytes(24);

    const result = run(['mac', key.toString('hex'), data.toString('hex')]);

    if (result.status === 0) {
      expect(result.stdout.trim()).toBe(computeMac(key, data));
    } else {
      expect(result.stderr).toMatch(/CryptographicException.*weak/);
    }
  });
});
