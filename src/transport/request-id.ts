import { randomUUID } from 'node:crypto';
import type { Request } from 'express';

/** The caller's X-Request-Id when it is sane, else a new one: the correlation id of STYLE §7. */
export function requestIdOf(request: Request): string {
  const given = request.get('x-request-id');
  if (given && /^[A-Za-z0-9._:-]{1,64}$/.test(given)) return given;
  return randomUUID();
}
