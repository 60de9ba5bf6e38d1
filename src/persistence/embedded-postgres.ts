import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * The embedded PostgreSQL used when no DATABASE_URL is set: PGlite keeps its files in a data
 * folder and is served over the PostgreSQL wire protocol on loopback, so the platform reaches it
 * through the same `pg` driver, TypeORM driver and migrations as a real server.
 *
 * PGlite runs one session. The socket server queues the wire messages of every connection and
 * lets a connection that is inside a transaction finish it before another one runs, so each
 * transaction has the session to itself and a rollback undoes only its own work. The platform
 * itself opens one connection (pool size 1, see data-source.ts); the others are for operator
 * tools (the CLI, the simulator) reaching a running platform's database.
 */
const MAX_CONNECTIONS = 8;
export interface EmbeddedPostgres {
  /** A postgres:// URL for the `pg` driver. */
  readonly url: string;
  stop(): Promise<void>;
}

/** `dataDir` undefined keeps everything in memory (tests). */
export async function startEmbeddedPostgres(dataDir?: string): Promise<EmbeddedPostgres> {
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
  const database = await PGlite.create(dataDir ? { dataDir } : {});

  const server = new PGLiteSocketServer({
    db: database,
    host: '127.0.0.1',
    port: 0,
    maxConnections: MAX_CONNECTIONS,
  });
  await server.start();
  const address = server.getServerConn();

  return {
    url: `postgres://postgres@${address}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await database.close();
    },
  };
}
