import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config';
import type { Tenant } from '../../src/domain/model';
import { createLogger, silentLogger } from '../../src/logger';
import { createScratchDatabase } from '../../src/persistence/scratch-database';
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
  /** What the platform was configured with; a CLI run against it needs the same. */
  environment: NodeJS.ProcessEnv;
  /**
   * Closes this platform but keeps its database, then starts another on it, as a restart does.
   * Needs DATABASE_URL or `persistent: true` (an in-memory database does not survive).
   */
  restart(environment?: NodeJS.ProcessEnv): Promise<TestPlatform>;
}

export type TestPlatformOptions = Partial<Omit<PlatformOptions, 'config'>> & {
  environment?: NodeJS.ProcessEnv;
  /** Embedded database in a temporary data folder instead of memory, so that it can restart. */
  persistent?: boolean;
};

export async function startTestPlatform(overrides: TestPlatformOptions = {}): Promise<TestPlatform> {
  const { environment, persistent, ...options } = overrides;
  const scratch = process.env.DATABASE_URL ? await createScratchDatabase(process.env.DATABASE_URL, 'cnmcsp_test') : undefined;
  const dataDir = !scratch && persistent ? mkdtempSync(path.join(tmpdir(), 'cnmcsp-test-')) : undefined;
  const cleanUp = async () => {
    await scratch?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };

  const platformEnvironment = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: scratch?.url,
    DATA_DIR: dataDir,
    DEMO_TENANT: 'off',
    PLATFORM_SECRET: randomBytes(32).toString('hex'),
    ...environment,
  };
  return launch(platformEnvironment, { inMemory: dataDir === undefined, ...options }, cleanUp);
}

async function launch(
  environment: NodeJS.ProcessEnv,
  options: Partial<Omit<PlatformOptions, 'config'>>,
  cleanUp: () => Promise<void>,
): Promise<TestPlatform> {
  const logger = process.env.TEST_LOG ? createLogger(process.env.TEST_LOG) : silentLogger;
  const platform = await startPlatform({ config: loadConfig(environment), logger, ...options }).catch(
    async (error: unknown) => {
      await cleanUp();
      throw error;
    },
  );
  const tenants = new TenantService(platform.database.dataSource);
  let counter = 0;

  return {
    ...platform,
    tenants,
    environment,
    createTenant: (input) => {
      counter += 1;
      return tenants.create({ code: `t${counter}`, name: `测试燃气公司${counter}`, plaintext: true, ...input });
    },
    async restart(changes = {}) {
      await platform.close();
      return launch({ ...environment, ...changes }, options, cleanUp);
    },
    async close() {
      await platform.close();
      await cleanUp();
    },
  };
}


/**
 * `describe` when the tests run on a PostgreSQL server (DATABASE_URL); otherwise skipped with a
 * warning saying why (`needs`: what the embedded database cannot give). CI runs the suite on both,
 * so such a block runs in its second pass.
 */
export function describeOnServer(file: string, needs: string, title: string, body: () => void): void {
  if (process.env.DATABASE_URL) {
    describe(title, body);
    return;
  }
  console.warn(`${file} skipped: ${needs}; set DATABASE_URL to a PostgreSQL server to run it.`);
  describe.skip(title, body);
}
