import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { CredentialRepository, type StoredCredential } from '../persistence/repositories/credential-repository';
import { isUniqueViolation } from '../persistence/repositories/postgres-errors';
import { TenantRepository } from '../persistence/repositories/tenant-repository';
import type { TenantEntity } from '../persistence/entities';
import { CodeSealer } from './code-sealer';
import { parseRegistrationCode } from './message-crypto';

/** A registration code just issued: the only moment it exists in clear outside the sealer. */
export interface IssuedCode {
  tenant: TenantEntity;
  code: string;
  /** Rotation only: until when the previous code keeps working. */
  previousValidUntil?: Date;
}

export interface CredentialSummary {
  id: number;
  createdAt: Date;
  validUntil: Date | null;
  revokedAt: Date | null;
  state: 'current' | 'overlap' | 'expired' | 'revoked';
}

/**
 * The longest overlap of a rotation: 30 days. Long enough for a gas company to roll a new code
 * out; a longer one would keep a code that is being replaced alive with no good reason.
 */
export const MAX_OVERLAP_SECONDS = 30 * 86_400;

/**
 * The operator's side of tenant keys (DECISIONS §3.1; issue 4): issuing, rotating and revoking
 * registration codes. A code is generated from the CSPRNG (or imported from the vendor's earlier
 * system), sealed at once and shown once; the platform cannot show it again.
 */
export class TenantKeyService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sealer: CodeSealer,
  ) {}

  /** The tenant's first code. Refused when it has one: rotating is a decision of its own. */
  async issue(tenantCode: string, importedCode?: string): Promise<IssuedCode> {
    const code = normalizeCode(importedCode);
    await assertStoredCodesOpen(this.dataSource.manager, this.sealer);

    return this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const tenant = await findTenant(manager, tenantCode);
      const credentials = new CredentialRepository(manager);
      try {
        await credentials.insert(tenant.id, this.sealer.seal(tenant.id, code));
      } catch (error) {
        if (!isUniqueViolation(error, 'tenant_credential_current_key')) throw error;
        throw new Error(
          `tenant ${tenantCode} already has a registration code; ` +
            `use \`cnmcsp tenant rotate-code ${tenantCode}\` to replace it`,
        );
      }
      return { tenant, code };
    });
  }

  /**
   * A new current code; the previous one keeps working for `overlapSeconds` (database time), so
   * the gas company can switch without a moment where neither works. 0 revokes every earlier code
   * at once (a code that leaked).
   */
  async rotate(tenantCode: string, overlapSeconds: number, importedCode?: string): Promise<IssuedCode> {
    assertOverlap(overlapSeconds);
    const code = normalizeCode(importedCode);
    await assertStoredCodesOpen(this.dataSource.manager, this.sealer);

    return this.dataSource.transaction('READ COMMITTED', async (manager) => {
      const tenant = await findTenant(manager, tenantCode);
      const credentials = new CredentialRepository(manager);
      const previousValidUntil =
        overlapSeconds > 0 ? await credentials.retireCurrent(tenant.id, overlapSeconds) : undefined;
      if (overlapSeconds === 0 && (await credentials.revokeAll(tenant.id)) === 0) {
        throw noCodeYet(tenantCode);
      }
      if (overlapSeconds > 0 && previousValidUntil === undefined) throw noCodeYet(tenantCode);
      // Checked before the commit: a new code that cannot be shown must not become current.
      if (previousValidUntil !== undefined && Number.isNaN(previousValidUntil.getTime())) {
        throw new Error(`the end of the overlap of tenant ${tenantCode}'s previous code is not a valid date`);
      }

      await credentials.insert(tenant.id, this.sealer.seal(tenant.id, code));
      return { tenant, code, previousValidUntil };
    });
  }

  async list(tenantCode: string): Promise<CredentialSummary[]> {
    const manager = this.dataSource.manager;
    const tenant = await findTenant(manager, tenantCode);
    const [{ now }] = (await manager.query('SELECT now() AS now')) as [{ now: Date }];
    const credentials = await new CredentialRepository(manager).listForTenant(tenant.id);
    return credentials.map((credential) => summarize(credential, now));
  }
}

/**
 * Revokes every usable code of the tenant at once. It opens no code, so it needs no platform
 * secret: it is also the way out when the secret a code was sealed with is lost.
 */
export async function revokeTenantCodes(dataSource: DataSource, tenantCode: string): Promise<number> {
  return dataSource.transaction('READ COMMITTED', async (manager) => {
    const tenant = await findTenant(manager, tenantCode);
    return new CredentialRepository(manager).revokeAll(tenant.id);
  });
}

/**
 * Fail fast (STYLE §8): every code that may still verify a request must open with this secret
 * and be a well-formed registration code. Run at platform start and before the CLI seals a new
 * code, so that a wrong secret is found before it seals anything.
 */
export async function assertStoredCodesOpen(manager: EntityManager, sealer: CodeSealer): Promise<void> {
  const credentials = await new CredentialRepository(manager).listUsableOfAllTenants();
  const tenants = new TenantRepository(manager);

  for (const credential of credentials) {
    try {
      parseRegistrationCode(sealer.open(credential.tenantId, credential.sealedCode));
    } catch (error) {
      const tenant = (await tenants.listAll()).find((candidate) => candidate.id === credential.tenantId);
      const name = tenant?.code ?? `#${credential.tenantId}`;
      throw new Error(
        `the stored registration code #${credential.id} of tenant ${name} cannot be used: ` +
          `${(error as Error).message}. Start with the PLATFORM_SECRET it was sealed with ` +
          '(on the embedded database: the file platform-secret in the data folder), or, if that ' +
          `secret is lost, revoke the code with \`cnmcsp tenant revoke-codes ${name}\` and issue ` +
          `a new one with \`cnmcsp tenant issue-code ${name}\``,
      );
    }
  }
}

function assertOverlap(overlapSeconds: number): void {
  if (Number.isFinite(overlapSeconds) && overlapSeconds >= 0 && overlapSeconds <= MAX_OVERLAP_SECONDS) return;
  throw new Error(`the overlap of a rotation is 0 to 30 days (${MAX_OVERLAP_SECONDS} s), not ${overlapSeconds} s`);
}

/** 256 bits from the CSPRNG as 64 uppercase hex digits, or a given code checked and normalized. */
function normalizeCode(importedCode: string | undefined): string {
  if (importedCode === undefined) return generateRegistrationCode();
  const trimmed = importedCode.trim();
  parseRegistrationCode(trimmed);
  return trimmed.toUpperCase();
}

/**
 * A fresh code that every CIS can use. .NET and mono refuse a DES key half that is weak or
 * semi-weak, and a 3DES key whose halves are equal (parity bits ignored), while OpenSSL and Java
 * accept them; such a draw (about 2^-50) is simply drawn again.
 */
export function generateRegistrationCode(): string {
  for (;;) {
    const bytes = randomBytes(32);
    if (isUsableFromDotNet(bytes)) return bytes.toString('hex').toUpperCase();
  }
}

const WEAK_OR_SEMI_WEAK_DES_KEYS = new Set(
  [
    '0101010101010101', 'FEFEFEFEFEFEFEFE', 'E0E0E0E0F1F1F1F1', '1F1F1F1F0E0E0E0E',
    '01FE01FE01FE01FE', 'FE01FE01FE01FE01', '1FE01FE00EF10EF1', 'E01FE01FF10EF10E',
    '01E001E001F101F1', 'E001E001F101F101', '1FFE1FFE0EFE0EFE', 'FE1FFE1FFE0EFE0E',
    '011F011F010E010E', '1F011F010E010E01', 'E0FEE0FEF1FEF1FE', 'FEE0FEE0FEF1FEF1',
  ].map((hex) => withoutParity(Buffer.from(hex, 'hex'))),
);

export function isUsableFromDotNet(code: Buffer): boolean {
  for (const masterKey of [code.subarray(0, 16), code.subarray(16, 32)]) {
    const first = withoutParity(masterKey.subarray(0, 8));
    const second = withoutParity(masterKey.subarray(8, 16));
    if (first === second) return false;
    if (WEAK_OR_SEMI_WEAK_DES_KEYS.has(first) || WEAK_OR_SEMI_WEAK_DES_KEYS.has(second)) return false;
  }
  return true;
}

function withoutParity(key: Buffer): string {
  return Buffer.from(key.map((byte) => byte & 0xfe)).toString('hex');
}

async function findTenant(manager: EntityManager, tenantCode: string): Promise<TenantEntity> {
  const tenant = await new TenantRepository(manager).findByCode(tenantCode);
  if (!tenant) throw new Error(`no tenant with code ${tenantCode}`);
  return tenant;
}

function noCodeYet(tenantCode: string): Error {
  return new Error(
    `tenant ${tenantCode} has no registration code yet; use \`cnmcsp tenant issue-code ${tenantCode}\``,
  );
}

function summarize(credential: StoredCredential, now: Date): CredentialSummary {
  const { id, createdAt, validUntil, revokedAt } = credential;
  const state = revokedAt
    ? 'revoked'
    : validUntil === null
      ? 'current'
      : validUntil > now
        ? 'overlap'
        : 'expired';
  return { id, createdAt, validUntil, revokedAt, state };
}
