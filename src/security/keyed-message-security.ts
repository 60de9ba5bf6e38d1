import type { DataSource } from 'typeorm';
import type { MessageSecurity, OpenedRequest, SealedResponse } from '../application/message-security';
import { PlatformError } from '../domain/errors';
import type { Tenant } from '../domain/model';
import { ReturnCode } from '../domain/return-codes';
import type { Logger } from '../logger';
import { CredentialRepository, type StoredCredential } from '../persistence/repositories/credential-repository';
import { TenantRepository } from '../persistence/repositories/tenant-repository';
import type { InboundMessage } from '../transport/message';
import { CodeSealer } from './code-sealer';
import {
  checkMessageFormat,
  decryptVerified,
  encryptMessage,
  generateDisperseKey,
  macMatchesYielding,
  parseRegistrationCode,
  type TenantKeys,
} from './message-crypto';

export interface KeyedMessageSecurityOptions {
  dataSource: DataSource;
  sealer: CodeSealer;
  /** DECISIONS §3.7. */
  replayWindowHours: number;
  logger: Logger;
}

/** At most this long between two prunings of the replay log. */
const MAX_PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * DECISIONS §3 enforced with the tenants' stored registration codes.
 *
 * Opening a request, in order (nothing is stored before step 3):
 * 1. DisperseKey, MacValue and the Base64 of EncryptData well formed (80003001 / 80003002).
 * 2. The tenant (§3.6): the one of the path prefix, whose usable codes are tried; on the plain
 *    path every usable code of every active tenant, until one verifies the MAC (80003001 if none).
 * 3. The DisperseKey is recorded for that tenant, committed on its own before the operation runs
 *    (80003003 if already used within the window). Recording it in the operation's transaction
 *    would undo it whenever the operation fails, and a captured request that failed once could
 *    then be sent again later, when it would succeed. Only verified requests are recorded, so
 *    nobody without a key can fill the log.
 * 4. Decrypted (80003002). The dispatcher then checks DataFrom against the tenant (80003004).
 *
 * Validity of the codes is read from the database on every request (one indexed query), so a
 * rotation or revocation made by the CLI, another process, takes effect at once. The parsed keys
 * of each stored code (rows never change) are cached in memory by credential id.
 */
export class KeyedMessageSecurity implements MessageSecurity {
  private readonly keysByCredential = new Map<number, TenantKeys>();
  private readonly windowSeconds: number;
  private pruneTimer?: NodeJS.Timeout;

  constructor(private readonly options: KeyedMessageSecurityOptions) {
    this.windowSeconds = options.replayWindowHours * 3600;
  }

  async openEncrypted(message: InboundMessage): Promise<OpenedRequest> {
    const ciphertext = checkMessageFormat(message.disperseKey, message.encryptData, message.macValue);

    const candidates = await this.candidatesFor(message.tenantCode);
    let match: StoredCredential | undefined;
    for (const credential of candidates) {
      const keys = this.usableKeysOf(credential);
      if (keys && (await macMatchesYielding(keys, message.disperseKey, ciphertext, message.macValue))) {
        match = credential;
        break;
      }
    }
    if (!match) {
      const noCode = candidates.length === 0 && message.tenantCode !== undefined;
      throw new PlatformError(ReturnCode.MacCheckFailed, noCode ? 'MAC 校验失败：该接入方没有有效的注册码' : undefined);
    }

    const credentials = this.repository();
    const tenant = await credentials.findActiveTenant(match.tenantId);
    if (!tenant) throw new PlatformError(ReturnCode.MacCheckFailed, 'MAC 校验失败：该接入方已停用');
    if (!(await credentials.recordDisperseKey(tenant.id, message.disperseKey, this.windowSeconds))) {
      throw new PlatformError(ReturnCode.ReplayedDisperseKey);
    }

    const payloadText = decryptVerified(this.keysOf(match), message.disperseKey, ciphertext);
    return { tenant, payloadText, credentialId: match.id };
  }

  /** DECISIONS §3.3: every answer under a fresh DisperseKey from the CSPRNG. */
  async sealEncrypted(tenant: Tenant, payloadText: string, inReplyTo?: OpenedRequest): Promise<SealedResponse> {
    const credential = await this.sealingCredential(tenant, inReplyTo);
    const disperseKey = generateDisperseKey();
    const sealed = encryptMessage(this.keysOf(credential), disperseKey, payloadText);
    return { encryptData: sealed.encryptData, disperseKey, macValue: sealed.macValue };
  }

  /**
   * The keys of the tenant's current code, for messages the platform starts itself (the CIS
   * pushes of spec §6; push/push-keys.ts). Undefined when the tenant has none.
   */
  async keysFor(tenantId: number): Promise<TenantKeys | undefined> {
    const credential = await this.repository().findCurrent(tenantId);
    return credential ? this.usableKeysOf(credential) : undefined;
  }

  /** Prunes the replay log now and then periodically, until `stop`. */
  start(): void {
    void this.pruneReplayLog();
    const interval = Math.min(MAX_PRUNE_INTERVAL_MS, (this.windowSeconds * 1000) / 4);
    this.pruneTimer = setInterval(() => void this.pruneReplayLog(), Math.max(interval, 1000));
    this.pruneTimer.unref();
  }

  stop(): void {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = undefined;
  }

  /** Forgets DisperseKeys older than the window (§3.7): the log holds one window at most. */
  async pruneReplayLog(): Promise<number> {
    try {
      const removed = await this.repository().pruneDisperseKeys(this.windowSeconds);
      this.options.logger.debug({ removed }, 'replay log pruned');
      return removed;
    } catch (error) {
      if (!this.options.dataSource.isInitialized) return 0;
      this.options.logger.error({ err: error }, 'replay log pruning failed');
      return 0;
    }
  }

  private async candidatesFor(tenantCode: string | undefined): Promise<StoredCredential[]> {
    if (tenantCode === undefined) {
      const all = await this.repository().listUsable();
      this.forgetKeysExcept(all);
      return all;
    }

    // Same answer as a plaintext request to an unknown or disabled tenant's path.
    const tenant = await new TenantRepository(this.options.dataSource.manager).findActiveByCode(tenantCode);
    if (!tenant) {
      throw new PlatformError(ReturnCode.TenantMismatch, `数据归属与接入凭证不符：未找到 接入路径 ${tenantCode}`);
    }
    return this.repository().listUsable(tenant.id);
  }

  private async sealingCredential(tenant: Tenant, inReplyTo: OpenedRequest | undefined): Promise<StoredCredential> {
    const repository = this.repository();
    const credential =
      inReplyTo?.credentialId !== undefined
        ? await repository.findById(inReplyTo.credentialId)
        : await repository.findCurrent(tenant.id);
    if (!credential || credential.tenantId !== tenant.id) {
      throw new Error(`tenant ${tenant.code} has no registration code to seal its message with`);
    }
    return credential;
  }

  private keysOf(credential: StoredCredential): TenantKeys {
    let keys = this.keysByCredential.get(credential.id);
    if (!keys) {
      keys = parseRegistrationCode(this.options.sealer.open(credential.tenantId, credential.sealedCode));
      this.keysByCredential.set(credential.id, keys);
    }
    return keys;
  }

  /**
   * A code that does not open (sealed by a CLI run with another secret after this process
   * started) is skipped and reported, so that it fails its own tenant only, not every tenant.
   */
  private usableKeysOf(credential: StoredCredential): TenantKeys | undefined {
    try {
      return this.keysOf(credential);
    } catch (error) {
      this.options.logger.error(
        { tenantId: credential.tenantId, credentialId: credential.id, reason: (error as Error).message },
        'a stored registration code does not open with this platform secret',
      );
      return undefined;
    }
  }

  /** Drops cached keys of codes that expired or were revoked since (rotation, revocation). */
  private forgetKeysExcept(usable: StoredCredential[]): void {
    const ids = new Set(usable.map((credential) => credential.id));
    for (const id of this.keysByCredential.keys()) {
      if (!ids.has(id)) this.keysByCredential.delete(id);
    }
  }

  private repository(): CredentialRepository {
    return new CredentialRepository(this.options.dataSource.manager);
  }
}
