import pino from 'pino';

export type Logger = pino.Logger;

/**
 * One JSON line per event. Keys, registration codes and decrypted payloads are never logged at
 * info (STYLE §7); the redact list is a second line of defence, not the first.
 */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: undefined,
    redact: {
      // A failed query's bound parameters can hold decrypted payload values.
      paths: [
        'registrationCode',
        '*.registrationCode',
        'secret',
        '*.secret',
        'token',
        '*.token',
        'err.parameters',
        'err.driverError.parameters',
      ],
      censor: '[redacted]',
    },
  });
}

export const silentLogger: Logger = pino({ level: 'silent' });
