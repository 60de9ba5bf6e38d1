import type { DataSource } from 'typeorm';
import { isValidTimeZone } from '../domain/dates';
import type { BillingMode, Tenant } from '../domain/model';
import { isUniqueViolation } from '../persistence/repositories/postgres-errors';
import { Store } from '../persistence/repositories/store';

export interface NewTenant {
  code: string;
  name: string;
  billingMode?: BillingMode;
  plaintext?: boolean;
  timeZone?: string;
}

/** Operator-side tenant management, used by the CLI and the first-start bootstrap. */
export class TenantService {
  constructor(private readonly dataSource: DataSource) {}

  async create(input: NewTenant): Promise<Tenant> {
    const tenant = {
      code: input.code,
      name: input.name,
      billingMode: input.billingMode ?? 'meter',
      plaintext: input.plaintext ?? false,
      timeZone: input.timeZone ?? 'Asia/Shanghai',
    };
    assertValidTenant(tenant);
    try {
      return await new Store(this.dataSource.manager).tenants.insert(tenant);
    } catch (error) {
      // The name is the DataFrom every request of the tenant carries: two tenants cannot share it.
      if (isUniqueViolation(error, 'tenant_name_key')) throw new Error(`a tenant named ${tenant.name} exists already`);
      if (isUniqueViolation(error, 'tenant_code_key')) throw new Error(`a tenant with code ${tenant.code} exists already`);
      throw error;
    }
  }

  list() {
    return new Store(this.dataSource.manager).tenants.listAll();
  }

  async update(code: string, changes: Partial<Pick<Tenant, 'plaintext' | 'billingMode' | 'timeZone'>> & { disabled?: boolean }) {
    const store = new Store(this.dataSource.manager);
    const tenant = await store.tenants.findByCode(code);
    if (!tenant) throw new Error(`no tenant with code ${code}`);
    if (changes.timeZone !== undefined && !isValidTimeZone(changes.timeZone)) {
      throw new Error(`unknown time zone ${changes.timeZone}`);
    }

    if (changes.plaintext !== undefined) tenant.plaintext = changes.plaintext;
    if (changes.billingMode !== undefined) tenant.billingMode = changes.billingMode;
    if (changes.timeZone !== undefined) tenant.timeZone = changes.timeZone;
    if (changes.disabled !== undefined) tenant.status = changes.disabled ? 'disabled' : 'active';
    return store.tenants.save(tenant);
  }
}

function assertValidTenant(tenant: Omit<Tenant, 'id'>): void {
  if (!/^[A-Za-z0-9_-]{1,50}$/.test(tenant.code)) {
    throw new Error('a tenant code is 1 to 50 letters, digits, "-" or "_" (it appears in URLs)');
  }
  if (tenant.name.trim() === '' || [...tenant.name].length > 50) {
    throw new Error('a tenant name (the DataFrom value) is 1 to 50 characters');
  }
  if (!isValidTimeZone(tenant.timeZone)) throw new Error(`unknown time zone ${tenant.timeZone}`);
}
