import type { DataSource } from 'typeorm';

/** Tables a refused request may still write to: the call log, and the migrations' own table. */
const ALWAYS_WRITTEN = new Set(['interface_call', 'schema_migration']);

/**
 * Row counts of every table of the schema but the call log, to show that a refused request
 * "leaves nothing stored". Tables that other issues add are counted too, without listing them.
 */
export async function countRows(dataSource: DataSource): Promise<Record<string, number>> {
  const tables: Array<{ name: string }> = await dataSource.query(
    `SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    if (ALWAYS_WRITTEN.has(name)) continue;
    const [{ n }] = (await dataSource.query(`SELECT count(*)::int AS n FROM "${name}"`)) as [{ n: number }];
    counts[name] = n;
  }
  return counts;
}
