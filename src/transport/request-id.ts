import { randomUUID } from 'node:crypto';

import type { Request } from 'express';

const MAX_REQUEST_ID_LENGTH = 64;

/**
 * The correlation id of a request (STYLE §7): the caller's `X-Request-Id` when it sends one, so
 * that both sides' logs meet, kept to characters that are safe in a log line and a header;
 * otherwise a fresh UUID.
 */
export function requestIdFor(request: Request): string {
  const given = (request.get('X-Request-Id') ?? '')
    .replace(/[^A-Za-z0-9._:@+=\/-]/g, '')
    .slice(0, MAX_REQUEST_ID_LENGTH);

  return given === '' ? randomUUID() : given;
}
