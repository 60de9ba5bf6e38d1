import { defaultMessage } from './return-codes';

/**
 * A functional fault: the caller's request cannot be carried out, and the reason is one of the
 * spec's ReturnCodes. Services throw it; each transport maps it to a response in one place
 * (the dispatcher). It is logged at info, never as a platform error.
 */
export class PlatformError extends Error {
  readonly code: number;

  constructor(code: number, message?: string) {
    super(message ?? defaultMessage(code));
    this.name = 'PlatformError';
    this.code = code;
  }
}

export function isPlatformError(error: unknown): error is PlatformError {
  return error instanceof PlatformError;
}
