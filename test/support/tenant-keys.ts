import type { Tenant } from '../../src/domain/model';
import type { NewTenant } from '../../src/services/tenant-service';
import { CodeSealer } from '../../src/security/code-sealer';
import { TenantKeyService } from '../../src/security/tenant-keys';
import type { TestPlatform } from './test-platform';

/** DECISIONS §3.4: the registration code of the worked example. */
export const WORKED_EXAMPLE = {
  registrationCode: '0123456789ABCDEFFEDCBA98765432100F1E2D3C4B5A69788796A5B4C3D2E1F0',
  disperseKey: '3815092746153820',
  payload: '{"UserID":"KYNYN144860","MeterID":"012345678912","DataFrom":"苍南仪表集团"}',
  encryptData:
    'jdvlcmcCETq1hm+yGd/YwNkbxObo5fv48hgucwDktLIW4ohyrcrpTTub2e2cwU4Xfobl6dMWgMdB7QQd/U9Nfzf7hzc' +
    'N/Xx0+Ug7pVUqtOdMUOaMMqRwtg==',
  macValue: '7D71D4B825462534',
} as const;

/** The operator's key commands on a test platform's database, with its platform secret. */
export function keyServiceOf(platform: TestPlatform): TenantKeyService {
  const secret = Buffer.from(platform.environment.PLATFORM_SECRET as string, 'hex');
  return new TenantKeyService(platform.database.dataSource, new CodeSealer(secret));
}

/** A tenant that must encrypt (not plaintext unless asked), with a registration code issued. */
export async function createKeyedTenant(
  platform: TestPlatform,
  input: Partial<NewTenant>,
  registrationCode?: string,
): Promise<{ tenant: Tenant; code: string }> {
  const tenant = await platform.createTenant({ plaintext: false, ...input });
  const { code } = await keyServiceOf(platform).issue(tenant.code, registrationCode);
  return { tenant, code };
}
