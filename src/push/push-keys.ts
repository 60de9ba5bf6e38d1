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
