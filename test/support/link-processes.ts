import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createScratchDatabase } from '../../src/persistence/scratch-database';
import { Simulator } from '../../src/simulator/simulator';
import { restCall } from './cis-client';
import { runCli } from './cli';

/**
 * For the meter link tests that run the platform as its own process (SIGKILL, two processes):
 * a database of their own, a tenant and a gateway made with the operator's CLI, and accounts
 * opened over REST, so that nothing but the real paths touch the platform.
 */
export interface ProcessDatabase {
  environment: NodeJS.ProcessEnv;
  /** Set on PostgreSQL: the test may look into the database directly. */
  url?: string;
  cleanUp(): Promise<void>;
}

export async function processDatabase(): Promise<ProcessDatabase> {
  const secret = randomBytes(32).toString('hex');
  const server = process.env.DATABASE_URL;
  if (!server) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnmcsp-link-'));
    return {
      environment: { DATA_DIR: dataDir, DATABASE_URL: '', DEMO_TENANT: 'off', PLATFORM_SECRET: secret },
      cleanUp: async () => fs.rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const scratch = await createScratchDatabase(server, 'cnmcsp_link');
  return {
    url: scratch.url,
    environment: { DATABASE_URL: scratch.url, DEMO_TENANT: 'off', PLATFORM_SECRET: secret },
    cleanUp: () => scratch.drop(),
  };
}

export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A plaintext tenant and a gateway token, through `cnmcsp tenant add` and `cnmcsp gateway add`. */
export async function tenantWithGateway(environment: NodeJS.ProcessEnv, code: string, name: string): Promise<string> {
  const tenant = await runCli(['tenant', 'add', '--code', code, '--name', name, '--plaintext'], environment);
  if (tenant.code !== 0) throw new Error(`tenant add: ${tenant.stderr}`);
  const gateway = await runCli(['gateway', 'add', '--tenant', code, '--name', 'test-gateway'], environment);
  const token = /token \(keep it now, it cannot be shown again\): (\S+)/.exec(gateway.stdout)?.[1];
  if (!token) throw new Error(`gateway add: ${gateway.stdout}${gateway.stderr}`);
  return token;
}

/** Opens `count` accounts with a 10 yuan opening balance and `recharges` recharges of 1 yuan each. */
export async function openFleet(urls: string[], tenantName: string, count: number, recharges: number): Promise<string[]> {
  const meterNos = Array.from({ length: count }, (_, index) => `K${String(index + 1).padStart(4, '0')}`);
  const call = async (url: string, path: string, payload: Record<string, unknown>) => {
    const answer = await restCall(url, path, JSON.stringify({ ...payload, DataFrom: tenantName }));
    if (answer.json.ReturnCode !== 0) throw new Error(`${path}: ${answer.text}`);
  };
  await Promise.all(
    meterNos.map(async (meterNo, index) => {
      const url = urls[index % urls.length] as string;
      await call(url, '/rest/Standard/meter/meteradd', {
        UserID: `U${meterNo}`,
        MeterID: meterNo,
        MeterNo: meterNo,
        PreSaving: '10',
        MeterParamModel: 'CNMCPUJE',
        MeterProtocol: 'CNModbusV61',
        PriceID: 'P',
        PriceMode: '100',
        MonthCount: '1',
        Price1: '3.2',
      });
      for (let recharge = 1; recharge <= recharges; recharge += 1) {
        await call(urls[(index + recharge) % urls.length] as string, '/rest/Standard/fee/recharge', {
          UserID: `U${meterNo}`,
          MeterID: meterNo,
          TradeNo: `${meterNo}-${recharge}`,
          RechargeTime: '2026-10-02 12:34:22',
          RechargeAmt: '1.5',
        });
      }
    }),
  );
  return meterNos;
}

/** True when every meter has applied every one of its `expected` commands. */
export function fleetDone(simulator: Simulator, expected: number): boolean {
  return [...simulator.meters.values()].every((meter) => meter.applied.size === expected);
}

/** Every meter applied sequences 1..expected, each exactly once. */
export function appliedOnce(simulator: Simulator): Array<{ meterNo: string; applied: Array<[string, number]> }> {
  return [...simulator.meters.values()].map((meter) => ({
    meterNo: meter.meterNo,
    applied: [...meter.applied.entries()].sort((a, b) => Number(a[0]) - Number(b[0])),
  }));
}

export function expectedApplied(meterNo: string, expected: number) {
  return { meterNo, applied: Array.from({ length: expected }, (_, index): [string, number] => [String(index + 1), 1]) };
}
