import type { TestPlatform } from '../support/test-platform';

/**
 * Many accounts at once, written straight into the database (as a migration from an older
 * system would), for the batch operations: users `${prefix}U1..n` with meters `${prefix}M1..n`,
 * opened, on a standard price of 3.2 (PriceID SEED). Opening thousands of accounts through
 * MeterAdd would only make the tests slow.
 */
export async function seedMeters(platform: TestPlatform, tenantId: number, prefix: string, count: number): Promise<void> {
  const query = (text: string, parameters: unknown[]) => platform.database.dataSource.query(text, parameters);

  await query(
    `INSERT INTO price_scheme (tenant_id, price_id, version, price_mode, price1)
       VALUES ($1, 'SEED', '', 100, 3.2) ON CONFLICT DO NOTHING`,
    [tenantId],
  );
  await query(
    `WITH customers AS (
       INSERT INTO customer (tenant_id, user_id, user_name)
       SELECT $1, $2 || 'U' || n, $2 || 'U' || n FROM generate_series(1, $3::int) AS n
       RETURNING id, user_id
     )
     INSERT INTO meter (tenant_id, customer_id, meter_id, meter_no, model_code, protocol_code, gprs_dtu,
                        dtu_meter_type, gprs_addr, meter_addr, operator_name, area_name, price_scheme_id)
     SELECT $1, customers.id, meter_id, meter_id, 'CNMCPUJE', 'CNModbusV61', meter_id,
            'ICJEW', '23', '23', 'admin', '默认区域',
            (SELECT id FROM price_scheme WHERE tenant_id = $1 AND price_id = 'SEED')
       FROM customers, LATERAL (SELECT $2 || 'M' || substr(customers.user_id, length($2) + 2) AS meter_id) AS ids`,
    [tenantId, prefix, count],
  );
}

/**
 * Counts the SQL statements of the one transaction, among those the platform runs while `work`
 * runs, that issued a statement containing `marker`. Each operation runs in a transaction of its
 * own query runner; background work on the same connection pool (the meter link, pushes) runs in
 * others and is not counted.
 */
export async function countTransactionStatements(
  platform: TestPlatform,
  marker: string,
  work: () => Promise<unknown>,
): Promise<number> {
  const logger = platform.database.dataSource.logger;
  const original = logger.logQuery.bind(logger);
  const statements = new Map<unknown, string[]>();
  logger.logQuery = (...args: Parameters<typeof logger.logQuery>) => {
    const [query, , runner] = args;
    statements.set(runner, [...(statements.get(runner) ?? []), query]);
    return original(...args);
  };
  try {
    await work();
  } finally {
    logger.logQuery = original;
  }

  const marked = [...statements.values()].filter((queries) => queries.some((query) => query.includes(marker)));
  if (marked.length !== 1) throw new Error(`expected one transaction running "${marker}", found ${marked.length}`);
  return (marked[0] as string[]).length;
}
