import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config/config';

/** The file, inside the embedded database's data folder, that holds a generated secret. */
export const PLATFORM_SECRET_FILE = 'platform-secret';

const SECRET_PATTERN = /^[0-9A-Fa-f]{64}$/;

export interface SecretSettings {
  platformSecret?: string;
  databaseUrl?: string;
  dataDir: string;
}

/**
 * The platform secret that seals the stored registration codes (DECISIONS §3.1; docs/security.md
 * "Keys"): 32 bytes, from `PLATFORM_SECRET`; on the embedded database, without it, from the data
 * folder, generated there on first use so that `npm start` needs nothing set. With DATABASE_URL
 * it must be given: a generated secret would live on one machine only, and every platform
 * process and CLI call on that database needs the same one.
 *
 * `ephemeral` (an in-memory database, tests) makes a throwaway secret when none is given.
 * Throws ConfigError saying what to fix; the message never contains the secret.
 */
export function resolvePlatformSecret(settings: SecretSettings, ephemeral = false): Buffer {
  if (settings.platformSecret !== undefined) return decodeSecret(settings.platformSecret, 'PLATFORM_SECRET');

  if (settings.databaseUrl !== undefined) {
    throw new ConfigError(
      'PLATFORM_SECRET is not set. With DATABASE_URL the platform needs the secret that protects ' +
        'the stored registration codes: set PLATFORM_SECRET to 64 hexadecimal characters ' +
        '(e.g. `openssl rand -hex 32`), the same value for every platform process and for the CLI, ' +
        'and keep a copy where you keep the database backups.',
    );
  }
  if (ephemeral) return randomBytes(32);

  return readOrCreateSecretFile(path.join(settings.dataDir, PLATFORM_SECRET_FILE));
}

function readOrCreateSecretFile(file: string): Buffer {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    try {
      // 'wx': if another process created it in the meantime, keep theirs.
      fs.writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }

  return decodeSecret(fs.readFileSync(file, 'utf8').trim(), `the file ${file}`);
}

function decodeSecret(value: string, where: string): Buffer {
  if (!SECRET_PATTERN.test(value)) {
    throw new ConfigError(
      `${where} must hold the platform secret as 64 hexadecimal characters; it holds ` +
        `${value.length} characters${/^[0-9A-Fa-f]*$/.test(value) ? '' : ', some not hexadecimal'}. ` +
        'Restore the secret the registration codes were sealed with (from your backup).',
    );
  }

  return Buffer.from(value, 'hex');
}
