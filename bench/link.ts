/**
 * `npm run bench:link`: the meter link's throughput on the local PostgreSQL (issue 5).
 *
 * 1. Commands delivered and acknowledged per second through the device API, with 10,000
 *    simulated meters behind several gateways: each gateway reports for 100 meters per uplink,
 *    the answer carries each meter's due command, the meters apply it and the gateway
 *    acknowledges, taking the next commands in the same exchange, until every queue is empty.
 * 2. Readings ingested per second, in uplinks of 100 reports, with synchronous_commit on.
 *
 * Everything goes over real HTTP to a platform started in this process, on a fresh database
 * created on the server of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres)
 * and dropped afterwards. The commands are queued with one set-based INSERT (the CIS operations
 * that make them are not what this measures). Not a test: it prints figures.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config/config';
import { createLogger, silentLogger } from '../src/logger';
import { createScratchDatabase } from '../src/persistence/scratch-database';
import { GatewayRepository } from '../src/meter-link/gateway-repository';
import { startPlatform, type Platform } from '../src/platform';
import { TenantService } from '../src/services/tenant-service';
import { Simulator } from '../src/simulator/simulator';
import { VirtualMeter } from '../src/simulator/virtual-meter';

const METERS = Number(process.env.BENCH_METERS ?? 10_000);
const COMMANDS_PER_METER = Number(process.env.BENCH_COMMANDS_PER_METER ?? 3);
const GATEWAYS = Number(process.env.BENCH_GATEWAYS ?? 8);
const BATCH = 100;
const READING_ROUNDS = Number(process.env.BENCH_READING_ROUNDS ?? 3);

async function main(): Promise<void> {
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const database = await createScratchDatabase(server, 'cnmcsp_bench_link');
  const platform = await startPlatform({
    config: loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      DEMO_TENANT: 'off',
      PLATFORM_SECRET: randomBytes(32).toString('hex'),
    }),
    logger: process.env.BENCH_LOG ? createLogger(process.env.BENCH_LOG) : silentLogger,
  });
  try {
    const tenant = await new TenantService(platform.database.dataSource).create({ code: 'bench', name: '压测燃气公司' });
    await createFleet(platform, tenant.id);
    const simulators = await gatewaySimulators(platform, tenant.id);
    const synchronousCommit = (await platform.database.dataSource.query('SHOW synchronous_commit'))[0].synchronous_commit;

    const commands = await measureCommands(platform, tenant.id, simulators);
    const readings = await measureReadings(simulators);
    console.log(`\nmeter link on PostgreSQL (${redact(server)}), ${METERS} meters, ${GATEWAYS} gateways, synchronous_commit=${synchronousCommit}`);
    console.table([
      {
        measure: 'commands delivered + acknowledged',
        count: commands.count,
        seconds: commands.seconds.toFixed(2),
        'per second': Math.round(commands.count / commands.seconds),
        target: '>= 2000',
      },
      {
        measure: `readings ingested (uplinks of ${BATCH})`,
        count: readings.count,
        seconds: readings.seconds.toFixed(2),
        'per second': Math.round(readings.count / readings.seconds),
        target: '>= 5000',
      },
    ]);
  } finally {
    await platform.close();
    await database.drop();
  }
}

/** 10,000 accounts, opened directly in the database: the bench measures the link, not MeterAdd. */
async function createFleet(platform: Platform, tenantId: number): Promise<void> {
  const query = (sql: string, parameters: unknown[]) => platform.database.dataSource.query(sql, parameters);
  const [price] = await query(
    `INSERT INTO price_scheme (tenant_id, price_id, version, price_mode, month_count, price1)
     VALUES ($1, 'BENCH', '', 100, 1, 3.2) RETURNING id`,
    [tenantId],
  );
  await query(
    `INSERT INTO customer (tenant_id, user_id, user_name)
     SELECT $1, 'BU' || n, 'BU' || n FROM generate_series(1, $2) AS n`,
    [tenantId, METERS],
  );
  await query(
    `INSERT INTO meter (tenant_id, customer_id, meter_id, meter_no, model_code, protocol_code, gprs_dtu,
                        dtu_meter_type, gprs_addr, meter_addr, operator_name, area_name, price_scheme_id)
     SELECT $1, c.id, substr(c.user_id, 2), substr(c.user_id, 2), 'CNMCPUJE', 'CNModbusV61',
            substr(c.user_id, 2), 'ICJEW', '23', '23', 'bench', 'bench', $2
       FROM customer AS c WHERE c.tenant_id = $1`,
    [tenantId, price.id],
  );
}

async function gatewaySimulators(platform: Platform, tenantId: number): Promise<Simulator[]> {
  const meterNos = (await platform.database.dataSource.query(`SELECT meter_no FROM meter WHERE tenant_id = $1 ORDER BY id`, [tenantId])).map(
    (row: { meter_no: string }) => row.meter_no,
  );
  const gateways = new GatewayRepository(platform.database.dataSource.manager);
  let clock = Date.now() - 24 * 3600 * 1000;
  const simulators: Simulator[] = [];
  for (let index = 0; index < GATEWAYS; index += 1) {
    const { token } = await gateways.add(tenantId, `bench-${index}`);
    const simulator = new Simulator({
      url: platform.url,
      token,
      intervalMs: 60_000,
      batchSize: BATCH,
      consumption: () => '0.0100',
      clock: () => new Date((clock += 1)),
    });
    for (const meterNo of meterNos.filter((_: string, position: number) => position % GATEWAYS === index)) {
      simulator.meters.set(meterNo, new VirtualMeter(meterNo, '0', 'Asia/Shanghai'));
    }
    simulators.push(simulator);
  }
  return simulators;
}

async function measureCommands(platform: Platform, tenantId: number, simulators: Simulator[]) {
  await platform.database.dataSource.query(
    `WITH advanced AS (
       UPDATE meter SET last_command_sequence = last_command_sequence + $2
        WHERE tenant_id = $1 RETURNING id, last_command_sequence
     )
     INSERT INTO meter_command (tenant_id, meter_id, sequence, kind, payload, correlation_id)
     SELECT $1, advanced.id, advanced.last_command_sequence - $2 + step, 'recharge',
            jsonb_build_object('amount', '1.0000', 'tradeNo', 'B' || advanced.id || '-' || step, 'reason', 'recharge'),
            'bench'
       FROM advanced, generate_series(1, $2) AS step`,
    [tenantId, COMMANDS_PER_METER],
  );
  const started = process.hrtime.bigint();
  let count = 0;
  // Each wake-up takes up to ten acknowledge-and-next rounds; wake again until every queue is empty.
  for (let round = 0; round < 10; round += 1) {
    const results = await Promise.all(simulators.map((simulator) => simulator.wakeUp()));
    const taken = results.reduce((sum, result) => sum + result.commands, 0);
    count += taken;
    if (taken === 0) break;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const [left] = await platform.database.dataSource.query(
    `SELECT count(*) FILTER (WHERE state <> 'succeeded')::int AS unfinished, count(*)::int AS total FROM meter_command`,
  );
  if (left.unfinished !== 0) throw new Error(`${left.unfinished} of ${left.total} commands did not succeed`);
  return { count, seconds };
}

async function measureReadings(simulators: Simulator[]) {
  const started = process.hrtime.bigint();
  let count = 0;
  for (let round = 0; round < READING_ROUNDS; round += 1) {
    const results = await Promise.all(simulators.map((simulator) => simulator.wakeUp()));
    count += results.reduce((sum, result) => sum + result.reports, 0);
  }
  return { count, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}


function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
