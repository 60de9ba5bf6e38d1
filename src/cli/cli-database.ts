import { loadConfig } from '../config/config';
import { findRunningEmbedded, openDatabase, type Database } from '../persistence/database';

/**
 * The database the CLI works on: DATABASE_URL; else the embedded database of a platform that is
 * running from the data folder (through its socket, never its files); else the data folder itself.
 */
export async function openCliDatabase(): Promise<Database> {
  const config = loadConfig();
  if (config.databaseUrl) return openDatabase({ databaseUrl: config.databaseUrl, poolSize: 2 });

  const running = findRunningEmbedded(config.dataDir);
  if (running) return openDatabase({ databaseUrl: running, poolSize: 1 });
  return openDatabase({ embeddedDataDir: config.dataDir });
}

/** Runs a CLI action against the database and always closes it. */
export async function withCliDatabase<T>(work: (database: Database) => Promise<T>): Promise<T> {
  const database = await openCliDatabase();
  try {
    return await work(database);
  } finally {
    await database.close();
  }
}
