import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

export interface DataSourceOptions {
  url: string;
  /** The embedded server has one session: a second connection would only queue behind it. */
  embedded: boolean;
  poolSize?: number;
}

/**
 * The one TypeORM data source of the platform, the CLI and the migration commands. Schema changes
 * come only from migrations (STYLE §10): `synchronize` stays off.
 */
export function createDataSource(options: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migration',
    synchronize: false,
    logging: false,
    poolSize: options.embedded ? 1 : (options.poolSize ?? 10),
    extra: {
      max: options.embedded ? 1 : (options.poolSize ?? 10),
      // Fail a request rather than hang when every connection is busy for this long.
      connectionTimeoutMillis: 30_000,
    },
  });
}
