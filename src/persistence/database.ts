import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';

/** An open, migrated database: the server named by DATABASE_URL, or the embedded one. */
export interface Database {
  dataSource: DataSource;
  embedded: boolean;
  /** The URL other processes (CLI, simulator) can reach it by while this process runs. */
  url: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string;
  /** Where the embedded database keeps its files; undefined keeps it in memory (tests). */
  embeddedDataDir?: string;
  poolSize?: number;
}

const ENDPOINT_FILE = 'embedded-postgres.json';

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const embedded = options.databaseUrl === undefined;
  const server = embedded ? await startEmbedded(options.embeddedDataDir) : undefined;
  const url = server?.url ?? (options.databaseUrl as string);

  const dataSource = createDataSource({ url, embedded, poolSize: options.poolSize });
  try {
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
  } catch (error) {
    await server?.stop();
    throw new Error(`cannot open the database at ${redact(url)}: ${(error as Error).message}`);
  }

  return {
    dataSource,
    embedded,
    url,
    async close() {
      await dataSource.destroy();
      if (server) await server.stop();
      if (options.embeddedDataDir) removeEndpointFile(options.embeddedDataDir);
    },
  };
}

/**
 * PGlite's files belong to one process. While the platform runs, it publishes the address of its
 * socket server in the data folder so that the CLI connects through it instead of opening the
 * same files a second time.
 */
async function startEmbedded(dataDir: string | undefined): Promise<EmbeddedPostgres> {
  if (dataDir && findRunningEmbedded(dataDir)) {
    throw new Error(`another platform process is using the embedded database in ${dataDir}`);
  }
  const server = await startEmbeddedPostgres(dataDir ? path.join(dataDir, 'pglite') : undefined);
  if (dataDir) {
    fs.writeFileSync(
      path.join(dataDir, ENDPOINT_FILE),
      JSON.stringify({ pid: process.pid, url: server.url }),
    );
  }
  return server;
}

/** The URL of the embedded database a live platform process serves from this folder, if any. */
export function findRunningEmbedded(dataDir: string): string | undefined {
  const file = path.join(dataDir, ENDPOINT_FILE);
  if (!fs.existsSync(file)) return undefined;

  try {
    const { pid, url } = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number; url: string };
    process.kill(pid, 0);
    return url;
  } catch {
    return undefined;
  }
}

function removeEndpointFile(dataDir: string): void {
  fs.rmSync(path.join(dataDir, ENDPOINT_FILE), { force: true });
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
