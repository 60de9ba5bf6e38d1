/**
 * `npm run bench:batch`: the batch operations at the sizes a gas company sends them (issue 3).
 *
 * - BatchChangePrice for 100,000 meters, end to end over SOAP: one SOAP 1.1 request over real
 *   HTTP carrying the whole `Meters` list, timed from the first byte sent to the last byte of the
 *   answer. Target: answered within 10 s, the platform process under 1 GiB at its peak.
 * - ReadCurrentData for 10,000 meters, the same way. Target: under 2 s.
 *
 * Each runs on the local PostgreSQL named by DATABASE_URL (in a scratch database, dropped after)
 * and on the embedded PostgreSQL (PGlite, in a scratch data folder). The platform runs as a child
 * process, `node dist/src/main.js`, exactly as `npm start` runs it; its peak resident memory is
 * the kernel's high-water mark (VmHWM in /proc/<pid>/status), which covers everything the process
 * did from its start, the embedded database included when it is the embedded one.
 *
 * The 100,000 accounts are written straight into the database (bulk SQL), not opened through
 * MeterAdd: the setup is not what is measured.
 *
 * A benchmark, not a test: it prints figures and fails only if a call does not succeed.
 * BENCH_BATCH_METERS and BENCH_READ_METERS change the sizes; BENCH_BACKENDS=postgres or
 * =embedded runs one backend only; BENCH_NODE_ARGS passes flags to the platform's node (e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to see where its time goes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { findRunningEmbedded } from '../src/persistence/database';
import { createScratchDatabase } from '../src/persistence/scratch-database';

const BATCH_METERS = Number(process.env.BENCH_BATCH_METERS ?? 100_000);
const READ_METERS = Number(process.env.BENCH_READ_METERS ?? 10_000);
const BATCH_RUNS = 2;
const READ_RUNS = 3;
const TENANT = { code: 'bench', name: '苍南仪表集团' };
const MAIN_SCRIPT = path.resolve(__dirname, '../src/main.js');

interface Backend {
  name: string;
  /**
   * The embedded database lives inside the platform process. It is created (PGlite's initdb) on
   * the first start of a data folder, which leaves that process some 800 MiB larger for good. A
   * platform starts that way once in its life; every later start opens the folder. So the folder
   * is created by a first start, whose peak is reported apart, and the figures come from the
   * second.
   */
  embedded: boolean;
  /** Environment for the platform process. */
  environment: Record<string, string>;
  /** The URL to set the data up through, once the platform runs. */
  databaseUrl(): string;
  cleanUp(): Promise<void>;
}

interface Figures {
  backend: string;
  embedded: boolean;
  firstStartPeakMiB?: number;
  setupSeconds: number;
  batchSeconds: number[];
  batchCpuSeconds: CpuSeconds[];
  readSeconds: number[];
  readCpuSeconds: CpuSeconds[];
  rssBeforeMiB: number;
  peakRssMiB: number;
  requestMiB: number;
  responseMiB: number;
}

async function main(): Promise<void> {
  const backends: Backend[] = [];
  const wanted = process.env.BENCH_BACKENDS ?? 'postgres,embedded';
  if (wanted.includes('postgres')) {
    if (process.env.DATABASE_URL) backends.push(await postgresBackend(process.env.DATABASE_URL));
    else console.log('DATABASE_URL is not set: the local PostgreSQL is skipped.');
  }
  if (wanted.includes('embedded')) backends.push(embeddedBackend());

  const results: Figures[] = [];
  try {
    for (const backend of backends) {
      console.log(`\n== ${backend.name}`);
      results.push(await runOn(backend));
    }
  } finally {
    // Every scratch database and data folder goes, those of backends a failure kept from running too.
    for (const backend of backends) await backend.cleanUp();
  }
  printTable(results);
}

async function runOn(backend: Backend): Promise<Figures> {
  const firstStartPeakMiB = backend.embedded ? await createByFirstStart(backend) : undefined;
  const platform = await startPlatform(backend);
  try {
    const database = new Client({ connectionString: backend.databaseUrl() });
    await database.connect();
    try {
      return { ...(await measure(backend, platform, database)), firstStartPeakMiB };
    } finally {
      await database.end();
    }
  } finally {
    await platform.stop();
  }
}

async function createByFirstStart(backend: Backend): Promise<number> {
  const platform = await startPlatform(backend);
  const { peakMiB } = memoryOf(platform.pid);
  await platform.stop();
  console.log(`first start of a fresh data folder: peak RSS ${peakMiB.toFixed(0)} MiB`);
  return peakMiB;
}

async function measure(backend: Backend, platform: RunningPlatform, database: Client): Promise<Figures> {
  const setupStarted = performance.now();
  await createAccounts(database, BATCH_METERS);
  const setupSeconds = seconds(setupStarted);
  console.log(`${BATCH_METERS} accounts written in ${setupSeconds.toFixed(1)} s`);
  const rssBeforeMiB = memoryOf(platform.pid).rssMiB;

  const cpu = () => cpuSecondsOf(platform.pid, database, backend);

  const batchSeconds: number[] = [];
  const batchCpuSeconds: CpuSeconds[] = [];
  let requestBytes = 0;
  for (let run = 1; run <= BATCH_RUNS; run += 1) {
    const envelope = soapEnvelope('BatchChangePrice', batchPayload(BATCH_METERS, `B${run}`));
    requestBytes = Buffer.byteLength(envelope);
    const cpuBefore = await cpu();
    const answer = await timedSoapCall(platform.url, 'BatchChangePrice', envelope);
    batchCpuSeconds.push(cpuUsed(cpuBefore, await cpu()));
    await expectQueued(database, `B${run}`, BATCH_METERS);
    batchSeconds.push(answer.seconds);
    console.log(`BatchChangePrice ${BATCH_METERS}: ${answer.seconds.toFixed(2)} s (run ${run})`);
  }

  const readSeconds: number[] = [];
  const readCpuSeconds: CpuSeconds[] = [];
  let responseBytes = 0;
  for (let run = 1; run <= READ_RUNS; run += 1) {
    const envelope = soapEnvelope('ReadCurrentData', readPayload(READ_METERS, run));
    const cpuBefore = await cpu();
    const answer = await timedSoapCall(platform.url, 'ReadCurrentData', envelope);
    readCpuSeconds.push(cpuUsed(cpuBefore, await cpu()));
    const data = JSON.parse(answer.encryptData) as { ReadingData: unknown[] };
    if (data.ReadingData.length !== READ_METERS) throw new Error(`ReadCurrentData answered ${data.ReadingData.length} meters`);
    responseBytes = answer.bytes;
    readSeconds.push(answer.seconds);
    console.log(`ReadCurrentData ${READ_METERS}: ${answer.seconds.toFixed(2)} s (run ${run})`);
  }

  return {
    backend: backend.name,
    embedded: backend.embedded,
    setupSeconds,
    batchSeconds,
    batchCpuSeconds,
    readSeconds,
    readCpuSeconds,
    rssBeforeMiB,
    peakRssMiB: memoryOf(platform.pid).peakMiB,
    requestMiB: requestBytes / 2 ** 20,
    responseMiB: responseBytes / 2 ** 20,
  };
}

/** Users BU1..n with meters BM1..n, opened, on one standard price, in two statements. */
async function createAccounts(database: Client, count: number): Promise<void> {
  const [tenant] = (
    await database.query<{ id: number }>(
      `INSERT INTO tenant (code, name, plaintext) VALUES ($1, $2, true) RETURNING id`,
      [TENANT.code, TENANT.name],
    )
  ).rows;
  const tenantId = tenant?.id;
  await database.query(
    `INSERT INTO price_scheme (tenant_id, price_id, version, price_mode, price1) VALUES ($1, 'OPEN', '', 100, 3.2)`,
    [tenantId],
  );
  await database.query(
    `WITH customers AS (
       INSERT INTO customer (tenant_id, user_id, user_name)
       SELECT $1, 'BU' || n, 'BU' || n FROM generate_series(1, $2::int) AS n
       RETURNING id, user_id
     )
     INSERT INTO meter (tenant_id, customer_id, meter_id, meter_no, model_code, protocol_code, gprs_dtu,
                        dtu_meter_type, gprs_addr, meter_addr, operator_name, area_name, price_scheme_id)
     SELECT $1, customers.id, 'BM' || substr(user_id, 3), 'BM' || substr(user_id, 3), 'CNMCPUJE', 'CNModbusV61',
            'BM' || substr(user_id, 3), 'ICJEW', '23', '23', 'admin', '默认区域',
            (SELECT id FROM price_scheme WHERE tenant_id = $1 AND price_id = 'OPEN')
       FROM customers`,
    [tenantId, count],
  );
  await database.query('ANALYZE');
}

function batchPayload(count: number, priceId: string): string {
  const meters = Array.from({ length: count }, (_, index) => `{"UserID":"BU${index + 1}","MeterID":"BM${index + 1}"}`);
  return (
    `{"Meters":[${meters.join(',')}],"ChangeTime":"2019-10-02 00:00:00","PriceID":"${priceId}",` +
    '"Version":"309","IniDate":"2019-09-02 00:00:00","PriceMode":"101","MonthCount":"12",' +
    `"Price1":1.20,"Price2":1.8,"Price3":3.0,"Level1":2000,"Level2":"5000","DataFrom":"${TENANT.name}"}`
  );
}

/** A different slice of the meters on each run, so that no run reads what the last one cached. */
function readPayload(count: number, run: number): string {
  const offset = ((run - 1) * count) % Math.max(BATCH_METERS - count + 1, 1);
  const meters = Array.from({ length: count }, (_, index) => {
    const n = offset + index + 1;
    return `{"UserID":"BU${n}","MeterID":"BM${n}"}`;
  });
  return `{"Meters":[${meters.join(',')}]}`;
}

async function expectQueued(database: Client, priceId: string, count: number): Promise<void> {
  const { rows } = await database.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM meter_command WHERE kind = 'price_change' AND payload->>'priceId' = $1`,
    [priceId],
  );
  if (rows[0]?.n !== count) throw new Error(`expected ${count} price_change commands for ${priceId}, found ${rows[0]?.n}`);
}

function soapEnvelope(operation: string, payload: string): string {
  const text = payload.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' +
    `<soap:Body><${operation} xmlns="http://tempuri.org/">` +
    `<EncryptData>${text}</EncryptData><DisperseKey></DisperseKey><MacValue></MacValue>` +
    `</${operation}></soap:Body></soap:Envelope>`
  );
}

interface TimedAnswer {
  seconds: number;
  bytes: number;
  encryptData: string;
}

async function timedSoapCall(url: string, operation: string, envelope: string): Promise<TimedAnswer> {
  const body = Buffer.from(envelope, 'utf8');
  const started = performance.now();
  const response = await fetch(`${url}/WSI_MIDDataServices.asmx`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"http://tempuri.org/${operation}"` },
    body,
  });
  const text = await response.text();
  const elapsed = seconds(started);

  const result = elementText(text, `${operation}Result`);
  const encryptData = elementText(text, 'EncryptData');
  if (response.status !== 200 || result !== '0') {
    throw new Error(`${operation} failed: HTTP ${response.status}, ${encryptData.slice(0, 300) || text.slice(0, 300)}`);
  }
  return { seconds: elapsed, bytes: Buffer.byteLength(text), encryptData };
}

function elementText(xml: string, localName: string): string {
  const match = new RegExp(`<(?:\\w+:)?${localName}>([\\s\\S]*?)</(?:\\w+:)?${localName}>`).exec(xml);
  const text = match?.[1] ?? '';
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

interface RunningPlatform {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function startPlatform(backend: Backend): Promise<RunningPlatform> {
  const port = await freePort();
  const nodeArguments = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArguments, MAIN_SCRIPT], {
    env: {
      ...process.env,
      ...backend.environment,
      PORT: String(port),
      HOST: '127.0.0.1',
      DEMO_TENANT: 'off',
      LOG_LEVEL: 'warn',
      // A scratch database holds no registration code worth protecting: a fresh secret will do.
      PLATFORM_SECRET: randomBytes(32).toString('hex'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(url, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${output}`);
  }
  return { url, pid: child.pid as number, stop: () => stopChild(child) };
}

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the platform exited with code ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the platform did not answer /health within 120 s');
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * CPU seconds used so far by the platform process and, on a PostgreSQL server on this machine,
 * by the server processes serving the scratch database. On a machine shared with other work the
 * wall-clock figures stretch with the load; these do not.
 */
interface CpuSeconds {
  platform: number;
  /** The PostgreSQL server's processes; 0 for the embedded database, which is the platform's. */
  database: number;
}

async function cpuSecondsOf(platformPid: number, database: Client, backend: Backend): Promise<CpuSeconds> {
  if (backend.embedded) return { platform: processCpuSeconds(platformPid), database: 0 };

  const { rows } = await database.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
  const databaseSeconds = rows.reduce((total, row) => total + processCpuSeconds(row.pid), 0);
  return { platform: processCpuSeconds(platformPid), database: databaseSeconds };
}

function cpuUsed(before: CpuSeconds, after: CpuSeconds): CpuSeconds {
  return { platform: after.platform - before.platform, database: after.database - before.database };
}

function describeCpu(cpu: CpuSeconds | undefined, embedded: boolean): string {
  if (!cpu) return '';
  if (embedded) return `CPU ${cpu.platform.toFixed(1)}`;
  return `CPU ${(cpu.platform + cpu.database).toFixed(1)} = ${cpu.platform.toFixed(1)} + ${cpu.database.toFixed(1)}`;
}

function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, fields 14 and 15 of proc(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Resident memory now and at its highest since the process started (Linux). */
function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}

async function postgresBackend(serverUrl: string): Promise<Backend> {
  const scratch = await createScratchDatabase(serverUrl, 'cnmcsp_bench_batch');
  return {
    name: 'local PostgreSQL',
    embedded: false,
    environment: { DATABASE_URL: scratch.url },
    databaseUrl: () => scratch.url,
    cleanUp: () => scratch.drop(),
  };
}

function embeddedBackend(): Backend {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'cnmcsp-bench-'));
  return {
    name: 'embedded PGlite',
    embedded: true,
    environment: { DATABASE_URL: '', DATA_DIR: dataDir },
    databaseUrl: () => {
      const url = findRunningEmbedded(dataDir);
      if (!url) throw new Error(`no running embedded database in ${dataDir}`);
      return url;
    },
    cleanUp: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

function printTable(results: Figures[]): void {
  const rows = [
    ['', ...results.map((result) => result.backend)],
    ['accounts written (setup, bulk SQL)', ...results.map((result) => `${result.setupSeconds.toFixed(1)} s`)],
    [`BatchChangePrice request size`, ...results.map((result) => `${result.requestMiB.toFixed(1)} MiB`)],
    ...Array.from({ length: BATCH_RUNS }, (_, run) => [
      `BatchChangePrice ${BATCH_METERS.toLocaleString('en')} meters, run ${run + 1} (target < 10 s)`,
      ...results.map(
        (result) => `${result.batchSeconds[run]?.toFixed(2)} s (${describeCpu(result.batchCpuSeconds[run], result.embedded)})`,
      ),
    ]),
    ['ReadCurrentData response size', ...results.map((result) => `${result.responseMiB.toFixed(1)} MiB`)],
    ...Array.from({ length: READ_RUNS }, (_, run) => [
      `ReadCurrentData ${READ_METERS.toLocaleString('en')} meters, run ${run + 1} (target < 2 s)`,
      ...results.map(
        (result) => `${result.readSeconds[run]?.toFixed(2)} s (${describeCpu(result.readCpuSeconds[run], result.embedded)})`,
      ),
    ]),
    ['platform RSS before the batches', ...results.map((result) => `${result.rssBeforeMiB.toFixed(0)} MiB`)],
    ['platform peak RSS, VmHWM (target < 1024 MiB)', ...results.map((result) => `${result.peakRssMiB.toFixed(0)} MiB`)],
    [
      'peak RSS of the first start of a fresh data folder',
      ...results.map((result) => (result.firstStartPeakMiB === undefined ? '-' : `${result.firstStartPeakMiB.toFixed(0)} MiB`)),
    ],
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) => `| ${row.map((cell, column) => cell.padEnd(widths[column] as number)).join(' | ')} |`;

  const cpus = os.cpus().length;
  const load = os.loadavg().map((average) => average.toFixed(1)).join(' ');
  console.log(`\nBatch benchmark, node ${process.version}, ${cpus} CPUs, load average ${load}`);
  console.log('platform in a child process (node dist/src/main.js), its memory read from /proc/<pid>/status;');
  console.log('wall-clock seconds of each call over SOAP; in brackets the CPU seconds it took: platform + PostgreSQL server');
  console.log('processes (the embedded database runs inside the platform process)');
  console.log(line(rows[0] as string[]));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows.slice(1)) console.log(line(row));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
