import type { TenantKeys } from '../security/message-crypto';

/**
 * Where the worker gets the keys a tenant's pushes are encrypted with (DECISIONS §3.1): the
 * tenant's current registration code. Undefined: the tenant has no usable code, so an encrypted
 * push cannot be sent (it is retried; the operator issues a code). Plaintext tenants (DECISIONS
 * §3.5) are never asked.
 */
export interface PushKeys {
  keysFor(tenantId: number): Promise<TenantKeys | undefined>;
}

/** No tenant has keys: every encrypted push waits. For a platform started without key storage. */
export const noPushKeys: PushKeys = {
  async keysFor() {
    return undefined;
  },
};

/**
 * Remembers each tenant's keys for `ttlMs`, so that a lane sending a thousand pushes a second
 * asks for them a few times a minute, not once per push. A rotated or revoked code reaches the
 * pushes within `ttlMs`; a push sealed with a code revoked meanwhile is refused by the CIS and
 * retried.
 */
export function cachedPushKeys(keys: PushKeys, ttlMs: number): PushKeys {
  const cache = new Map<number, { keys: Promise<TenantKeys | undefined>; until: number }>();

  return {
    keysFor(tenantId) {
      const cached = cache.get(tenantId);
      if (cached && cached.until > Date.now()) return cached.keys;

      const fetched = keys.keysFor(tenantId);
      cache.set(tenantId, { keys: fetched, until: Date.now() + ttlMs });
      fetched.catch(() => cache.delete(tenantId));
      return fetched;
    },
  };
}
