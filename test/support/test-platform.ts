import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig } from '../../src/config/config';
import type { Tenant } from '../../src/domain/model';
import { createLogger, silentLogger } from '../../src/logger';
import { startPlatform, type Platform, type PlatformOptions } from '../../src/platform';
import { TenantService, type NewTenant } from '../../src/services/tenant-service';

/**
 * A real platform for one test file, on a real database: the PostgreSQL server named by
 * DATABASE_URL (a fresh database of its own, dropped afterwards) or, without it, the embedded
 * PostgreSQL in memory. Both go through the same driver, migrations and code.
 */
export interface TestPlatform extends Platform {
  tenants: TenantService;
  createTenant(input: Partial<NewTenant>): Promise<Tenant>;
}

export async function startTestPlatform(
  overrides: Partial<Omit<PlatformOptions, 'config'>> & { environment?: NodeJS.ProcessEnv } = {},
): Promise<TestPlatform> {
  const scratch = process.env.DATABASE_URL ? await createScratchDatabase(process.env.DATABASE_URL) : undefined;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: scratch?.url,
    DEMO_TENANT: 'off',
    ...overrides.environment,
  });

  const platform = await startPlatform({ config, logger: process.env.TEST_LOG ? createLogger(process.env.TEST_LOG) : silentLogger, inMemory: true, ...overrides });
  const tenants = new TenantService(platform.database.dataSource);
  let counter = 0;

  return {
    ...platform,
    tenants,
    createTenant: (input) => {
      counter += 1;
      return tenants.create({ code: `t${counter}`, name: `测试燃气公司${counter}`, plaintext: true, ...input });
    },
    async close() {
      await platform.close();
      await scratch?.drop();
    },
  };
}

async function createScratchDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `cnmcsp_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';

  await withClient(admin.toString(), (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withClient(admin.toString(), (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
