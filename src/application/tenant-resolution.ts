import type { DataSource } from 'typeorm';
import { PlatformError } from '../domain/errors';
import { optionalString } from '../domain/fields';
import type { Tenant } from '../domain/model';
import type { PayloadObject } from '../domain/payload';
import { ReturnCode } from '../domain/return-codes';
import { Store } from '../persistence/repositories/store';
import type { InboundMessage } from '../transport/message';

/**
 * DECISIONS §3.6 for a plaintext request: the tenant of the path prefix; else the one named by
 * DataFrom; else the only tenant there is. The tenant must allow plaintext (§3.5).
 */
export async function resolvePlaintextTenant(
  dataSource: DataSource,
  message: InboundMessage,
  payload: PayloadObject,
): Promise<Tenant> {
  return allowingPlaintext(await findTenant(new Store(dataSource.manager), message, payload));
}

/**
 * The tenant of a plaintext request's path prefix, before its payload is read: a tenant that does
 * not allow plaintext refuses the request (80003005) whatever the body holds, so a body that is
 * not even JSON says nothing else. Undefined on the shared path, where the payload decides.
 */
export async function resolvePlaintextTenantByPath(
  dataSource: DataSource,
  message: InboundMessage,
): Promise<Tenant | undefined> {
  if (message.tenantCode === undefined) return undefined;
  return allowingPlaintext(await findTenantByPath(new Store(dataSource.manager), message.tenantCode));
}

function allowingPlaintext(tenant: Tenant): Tenant {
  if (!tenant.plaintext) {
    throw new PlatformError(ReturnCode.PlaintextNotAllowed, defaultPlaintextMessage(tenant));
  }
  return tenant;
}

async function findTenantByPath(store: Store, tenantCode: string): Promise<Tenant> {
  const tenant = await store.tenants.findActiveByCode(tenantCode);
  if (!tenant) throw unknownTenant(`接入路径 ${tenantCode}`);
  return tenant;
}

async function findTenant(store: Store, message: InboundMessage, payload: PayloadObject): Promise<Tenant> {
  if (message.tenantCode !== undefined) return findTenantByPath(store, message.tenantCode);

  const dataFrom = optionalString(payload, 'DataFrom', 50);
  if (dataFrom !== undefined) {
    const tenant = await store.tenants.findActiveByName(dataFrom);
    if (!tenant) throw unknownTenant(`数据归属 ${dataFrom}`);
    return tenant;
  }

  const tenants = await store.tenants.listActive();
  if (tenants.length === 1) return tenants[0] as Tenant;
  throw new PlatformError(ReturnCode.MissingOrInvalidField, '传入参数缺少重要字段：DataFrom');
}

function unknownTenant(what: string): PlatformError {
  return new PlatformError(ReturnCode.TenantMismatch, `数据归属与接入凭证不符：未找到 ${what}`);
}

function defaultPlaintextMessage(tenant: Tenant): string {
  return `该接入方未开通明文传输（${tenant.name}），请使用加密传输`;
}
