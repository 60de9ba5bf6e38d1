/**
 * `npm run bench:push`: the CIS push of spec §6 (issue 6), measured end to end.
 *
 * 1. Throughput: pushes per second from the outbox to the reference CIS receiver, REST plaintext,
 *    REST encrypted (DECISIONS §3 on both sides) and SOAP encrypted, one tenant; then four
 *    tenants at once. Target: at least 1,000 pushes/s.
 * 2. Isolation: how much longer a healthy tenant B takes to deliver its backlog while tenant A
 *    pushes a backlog of its own to a dead CIS (connection refused), then to a stalled one
 *    (accepts, never answers; A waits its timeout on every attempt), than while A's backlog is
 *    parked (same rows in the database, A not pushed). Target: under 10 %. The two runs go back
 *    to back, BENCH_ROUNDS times in alternating order; the median of their ratios is reported.
 *
 * The machine is shared: other processes move the figures. The CPU time the platform and the
 * receiver spent per push (from /proc) is printed too; it does not depend on the load.
 *
 * Everything runs as it does in production, each part its own process: the platform
 * (`node dist/src/main.js`, worker on, LOG_LEVEL=info, its log drained), and the receivers
 * (`cnmcsp cis-receiver`). The pushes are queued through the outbox contract the meter link calls
 * (push/outbox.ts), in one transaction per backlog, while the platform runs; the span of a
 * backlog is from its transaction's commit to the last delivery (delivered_at), so it includes the
 * worker's pick-up latency.
 *
 * Runs on the PostgreSQL server of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres)
 * in a fresh database, dropped afterwards. BENCH_PUSHES (default 10000) sets the backlog size,
 * BENCH_CONCURRENCY (default 8, the platform's default) the pushes in flight per tenant,
 * BENCH_ROUNDS (default 5) the paired runs per isolation scenario,
 * BENCH_NODE_ARGS flags for the platform's node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`),
 * BENCH_PLATFORM_LOG a file for the platform's log (its lines per tenant every 10 s), and
 * BENCH_ONLY=isolation skips part 1.
 * A benchmark, not a test: it prints figures; it fails only if a push cannot be delivered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { openDatabase, type Database } from '../src/persistence/database';
import { createScratchDatabase } from '../src/persistence/scratch-database';
import { PushAdmin, type PushSettingsChange } from '../src/push/push-admin';
import { enqueueReadingPushes, type ReadingForPush } from '../src/push/outbox';
import { CodeSealer } from '../src/security/code-sealer';
import { TenantKeyService } from '../src/security/tenant-keys';
import { TenantService } from '../src/services/tenant-service';

const PUSHES = Number(process.env.BENCH_PUSHES ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DIST = path.resolve(__dirname, '..');
const PLATFORM_SECRET = randomBytes(32).toString('hex');

interface Row {
  scenario: string;
  pushes: number;
  seconds: string;
  'pushes/s': number;
  note: string;
}

interface Owner {
  tenantId: number;
  code: string;
  meterRowId: string;
  meterNo: string;
}

async function main(): Promise<void> {
  const scratch = await createScratchDatabase(SERVER_URL, 'cnmcsp_bench_push');
  const children: ChildProcess[] = [];
  let database: Database | undefined;
  try {
    database = await openDatabase({ databaseUrl: scratch.url, poolSize: 4 });
    const dataSource = database.dataSource;
    const registrationCode = randomBytes(32).toString('hex').toUpperCase();

    const healthy = await startReceiver(children, ['--registration-code', registrationCode]);
    const receiverPid = children.at(-1)!.pid!;
    const stalled = await startReceiver(children, ['--stall']);
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    await startPlatform(children, scratch.url);
    const platformPid = children.at(-1)!.pid!;

    const bench = new PushBench(dataSource, registrationCode, { platform: platformPid, receiver: receiverPid }, healthy);
    const rows: Row[] = [];
    console.log(`CPUs: ${os.cpus().length}, load average before: ${os.loadavg().map((load) => load.toFixed(1)).join(' ')}`);
    console.log(`backlog ${PUSHES} pushes per tenant, ${CONCURRENCY} in flight per tenant\n`);

    const rest = (url: string) => ({ readingUrl: `${url}/rest/RealTimeData`, alarmUrl: `${url}/rest/AlarmData` });
    const soap = (url: string) => ({ readingUrl: `${url}/CIS_PushReceiver.asmx`, alarmUrl: `${url}/CIS_PushReceiver.asmx`, format: 'soap' as const });

    if (process.env.BENCH_ONLY !== 'isolation') {
      await throughput(bench, rows, rest(healthy), soap(healthy));
    }

    console.log('\nisolation: tenant B while tenant A pushes to a dead or stalled CIS, vs while A is parked');
    // Paired runs: B alone and B beside A back to back (in alternating order), their ratio taken,
    // and the median of the ratios reported. The machine's other load moves single runs by more
    // than the effect measured, but it moves two runs a few seconds apart alike.
    const brokenKinds = [
      { name: 'connection refused', settings: rest(deadUrl) },
      { name: 'stalled, 10 s timeout', settings: rest(stalled) },
    ];
    for (const broken of brokenKinds) {
      const ratios: number[] = [];
      const parked: number[] = [];
      const pushing: number[] = [];
      let otherDelivered = 0;
      for (let round = 0; round < ROUNDS; round += 1) {
        const runParked = () => bench.isolation('B, A parked', rest(healthy), broken.settings, false);
        const runPushing = () => bench.isolation(`B, A pushing (${broken.name})`, rest(healthy), broken.settings, true);
        const [first, second] = round % 2 === 0 ? [runParked, runPushing] : [runPushing, runParked];
        const one = await first();
        const two = await second();
        const [whileParked, whilePushing] = round % 2 === 0 ? [one, two] : [two, one];
        parked.push(whileParked.seconds);
        pushing.push(whilePushing.seconds);
        ratios.push(whilePushing.seconds / whileParked.seconds);
        otherDelivered += whilePushing.otherDelivered;
      }
      const slowdown = (median(ratios) - 1) * 100;
      rows.push({
        scenario: `B while A pushes to a CIS ${broken.name}`,
        pushes: PUSHES,
        seconds: `${median(pushing).toFixed(2)} vs ${median(parked).toFixed(2)}`,
        'pushes/s': Math.round(PUSHES / median(pushing)),
        note:
          `B ${slowdown >= 0 ? '+' : ''}${slowdown.toFixed(1)} % (median of ${ROUNDS} paired ratios: ` +
          `${ratios.map((ratio) => ratio.toFixed(2)).join(', ')}); A delivered ${otherDelivered}`,
      });
    }

    console.log(`\nload average after: ${os.loadavg().map((load) => load.toFixed(1)).join(' ')}`);
    console.table(rows);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await database?.close();
    await scratch.drop();
  }
}

/** Part 1: pushes per second, one tenant per format and mode, then four tenants at once. */
async function throughput(
  bench: PushBench,
  rows: Row[],
  rest: PushSettingsChange,
  soap: PushSettingsChange,
): Promise<void> {
  // A short warm-up: connections, JIT, the receiver's first allocations.
  await bench.run([await bench.tenant('warm', rest, false)], Math.min(PUSHES, 2_000));

  rows.push(await bench.row('REST, plaintext, 1 tenant', [await bench.tenant('rp', rest, false)]));
  rows.push(await bench.row('REST, encrypted, 1 tenant', [await bench.tenant('re', rest, true)]));
  rows.push(await bench.row('SOAP, encrypted, 1 tenant', [await bench.tenant('se', soap, true)]));
  const four = [];
  for (const index of [1, 2, 3, 4]) four.push(await bench.tenant(`m${index}`, rest, true));
  rows.push(await bench.row('REST, encrypted, 4 tenants at once', four, PUSHES / 4));
}

class PushBench {
  private readonly tenants: TenantService;
  private readonly admin: PushAdmin;
  private readonly keys: TenantKeyService;
  private readingCounter = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly registrationCode: string,
    private readonly pids: { platform: number; receiver: number },
    private readonly receiverUrl: string,
  ) {
    this.tenants = new TenantService(dataSource);
    this.admin = new PushAdmin(dataSource);
    this.keys = new TenantKeyService(dataSource, new CodeSealer(Buffer.from(PLATFORM_SECRET, 'hex')));
  }

  /** A tenant with one meter (written straight into the database: the setup is not measured). */
  async tenant(code: string, urls: PushSettingsChange, encrypted: boolean): Promise<Owner> {
    const tenant = await this.tenants.create({ code, name: `压测燃气公司-${code}`, plaintext: !encrypted });
    if (encrypted) await this.keys.issue(code, this.registrationCode);
    const [meter] = (await this.dataSource.query(
      `WITH price AS (
         INSERT INTO price_scheme (tenant_id, price_id, price_mode, price1) VALUES ($1, 'P', 100, 3.2) RETURNING id
       ), customer AS (
         INSERT INTO customer (tenant_id, user_id, user_name) VALUES ($1, 'U1', 'U1') RETURNING id
       )
       INSERT INTO meter (tenant_id, customer_id, meter_id, meter_no, model_code, protocol_code, gprs_dtu,
                          dtu_meter_type, gprs_addr, meter_addr, operator_name, area_name, price_scheme_id)
       SELECT $1, customer.id, 'M1', 'M1', 'CNMCPUJE', 'CNModbusV61', 'M1', 'ICJEW', '1', '1', 'bench', 'bench', price.id
         FROM customer, price
       RETURNING id`,
      [tenant.id],
    )) as Array<{ id: string }>;
    await this.admin.configure(code, { concurrency: CONCURRENCY, ...urls });
    return { tenantId: tenant.id, code, meterRowId: String(meter!.id), meterNo: 'M1' };
  }

  async row(scenario: string, owners: Owner[], perTenant = PUSHES): Promise<Row> {
    await this.startClean();
    const platformBefore = cpuMilliseconds(this.pids.platform);
    const receiverBefore = cpuMilliseconds(this.pids.receiver);
    const result = await this.run(owners, perTenant);
    const perPush = (before: number, pid: number) => ((cpuMilliseconds(pid) - before) / result.pushes).toFixed(2);
    const row = {
      scenario,
      pushes: result.pushes,
      seconds: result.seconds.toFixed(2),
      'pushes/s': Math.round(result.pushes / result.seconds),
      note:
        `CPU ms per push: platform ${perPush(platformBefore, this.pids.platform)}, ` +
        `receiver ${perPush(receiverBefore, this.pids.receiver)}`,
    };
    console.log(`${scenario}: ${row.pushes} in ${row.seconds} s = ${row['pushes/s']}/s`);
    return row;
  }

  /** Queues `perTenant` pushes for each owner in one transaction and waits for all to be delivered. */
  async run(owners: Owner[], perTenant: number): Promise<{ pushes: number; seconds: number }> {
    const ids = owners.map((owner) => owner.tenantId);
    await this.enqueue(owners.flatMap((owner) => this.readings(owner, perTenant)));
    await this.waitDelivered(ids, perTenant * owners.length);
    return { pushes: perTenant * owners.length, seconds: await this.span(ids) };
  }

  /**
   * B's backlog beside A's backlog of the same size. `pushing`: A's is being pushed to its broken
   * CIS; otherwise A's is parked (its push URLs cleared once queued), so that both runs carry the
   * same rows into the same database and differ only in A's lane working against a dead CIS.
   */
  async isolation(
    scenario: string,
    healthy: PushSettingsChange,
    broken: PushSettingsChange,
    pushing: boolean,
  ): Promise<{ scenario: string; pushes: number; seconds: number; otherDelivered: number }> {
    const label = `${pushing ? 'a' : 'p'}${this.readingCounter}`;
    const b = await this.tenant(`b${label}`, healthy, true);
    const a = await this.tenant(`a${label}`, broken, true);
    await this.startClean();
    // A's backlog first, so that A's lane is busy failing when B's arrives.
    await this.enqueue(this.readings(a, PUSHES));
    if (!pushing) await this.admin.configure(a.code, { readingUrl: null, alarmUrl: null });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await this.enqueue(this.readings(b, PUSHES));
    await this.waitDelivered([b.tenantId], PUSHES);
    const seconds = await this.span([b.tenantId]);
    const otherDelivered = await this.delivered([a.tenantId]);
    // A is no one's business from here: stop pushing it so that the next run starts alone.
    if (pushing) await this.admin.configure(a.code, { readingUrl: null, alarmUrl: null });
    console.log(`${scenario}: B's ${PUSHES} in ${seconds.toFixed(2)} s`);
    return { scenario, pushes: PUSHES, seconds, otherDelivered };
  }

  /**
   * Every run starts from the same state: the outbox emptied and vacuumed, the receiver's record
   * cleared (it keeps every push it stores, and a growing heap slows it down run after run).
   */
  private async startClean(): Promise<void> {
    await this.dataSource.query(`DELETE FROM push_outbox`);
    await this.dataSource.query(`VACUUM (ANALYZE) push_outbox`);
    await fetch(`${this.receiverUrl}/admin/reset`, { method: 'POST' });
  }

  private readings(owner: Owner, count: number): ReadingForPush[] {
    return Array.from({ length: count }, () => {
      this.readingCounter += 1;
      return {
        tenantId: owner.tenantId,
        meterRowId: owner.meterRowId,
        userNo: 'U1',
        meterNo: owner.meterNo,
        readAt: new Date(Date.UTC(2026, 0, 1) + this.readingCounter * 1000),
        reading: `${this.readingCounter}.1234`,
        valveState: '01',
        temperature: '21.5',
        pressure: '2.1',
        remainMoney: '88.8',
        totalBuyMoney: '200',
        totalUsedGas: '35.1',
        totalUsedMoney: '111.2',
        price: '3.2',
      };
    });
  }

  private async enqueue(readings: ReadingForPush[]): Promise<void> {
    await this.dataSource.transaction((manager) => enqueueReadingPushes(manager, readings));
  }

  private async delivered(tenantIds: number[]): Promise<number> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*)::int AS n FROM push_outbox WHERE tenant_id = ANY ($1) AND state = 'delivered'`,
      [tenantIds],
    )) as Array<{ n: number }>;
    return row!.n;
  }

  private async waitDelivered(tenantIds: number[], count: number): Promise<void> {
    const deadline = Date.now() + 10 * 60_000;
    while ((await this.delivered(tenantIds)) < count) {
      if (Date.now() > deadline) throw new Error(`not all ${count} pushes delivered within 10 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** From the backlog's commit (created_at) to its last delivery, in seconds. */
  private async span(tenantIds: number[]): Promise<number> {
    const [row] = (await this.dataSource.query(
      `SELECT extract(epoch FROM max(delivered_at) - min(created_at))::float AS seconds
         FROM push_outbox WHERE tenant_id = ANY ($1)`,
      [tenantIds],
    )) as Array<{ seconds: number }>;
    return row!.seconds;
  }
}

async function startPlatform(children: ChildProcess[], databaseUrl: string): Promise<void> {
  const port = await freePort();
  const nodeArguments = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArguments, path.join(DIST, 'src/main.js')], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PLATFORM_SECRET,
      PORT: String(port),
      HOST: '127.0.0.1',
      DEMO_TENANT: 'off',
      LOG_LEVEL: 'info',
      PUSH_WORKER: 'on',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  if (process.env.BENCH_PLATFORM_LOG) {
    const { createWriteStream } = await import('node:fs');
    const log = createWriteStream(process.env.BENCH_PLATFORM_LOG);
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  }
  await waitForLine(child, /"msg":"platform started"/, 'the platform');
}

async function startReceiver(children: ChildProcess[], args: string[]): Promise<string> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [path.join(DIST, 'src/cli/main.js'), 'cis-receiver', '--port', String(port), ...args],
    { env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  await waitForLine(child, /reference CIS receiver listening/, 'the receiver');
  return `http://127.0.0.1:${port}`;
}

/** Resolves on the first output line matching `pattern`; the output is drained from then on. */
function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 60 s:\n${output}`)), 60_000);
    const watch = (chunk: Buffer) => {
      if (output.length < 100_000) output += chunk.toString('utf8');
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', watch);
    child.stderr?.on('data', watch);
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${output}`)));
  });
}

/** User plus system CPU time a process has used so far (/proc/<pid>/stat, clock ticks of 10 ms). */
function cpuMilliseconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      server.close(() => resolve(address.port));
    });
  });
}


main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
