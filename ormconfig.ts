/**
 * The TypeORM data source for the `typeorm` command line (migration:show, migration:run,
 * migration:revert). It needs DATABASE_URL; the platform itself migrates its database at start,
 * embedded or not.
 */
import { createDataSource } from './src/persistence/data-source';

const url = process.env.DATABASE_URL;
if (!url) {
  throw new Error('DATABASE_URL is not set: the migration commands run against a PostgreSQL server');
}

export default createDataSource({ url, embedded: false });
