import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayRepository } from '../../src/meter-link/gateway-repository';
import type { Tenant } from '../../src/domain/model';
import { restCall } from './cis-client';
import { startTestPlatform, type TestPlatform } from './test-platform';

/**
 * Helpers for the meter link tests: a gateway's calls to the device API over real HTTP, and
 * accounts opened through the real MeterAdd.
 */
export interface DeviceAnswer {
  status: number;
  body: Record<string, any>;
}

export async function deviceCall(
  baseUrl: string,
  token: string,
  path: 'uplink' | 'ack' | 'meters',
  body?: unknown,
): Promise<DeviceAnswer> {
  const response = await fetch(`${baseUrl}/device/v1/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

export async function addGateway(platform: TestPlatform, tenant: Tenant, name = 'gw'): Promise<string> {
  const { token } = await new GatewayRepository(platform.database.dataSource.manager).add(tenant.id, name);
  return token;
}

export interface AccountOptions {
  preSaving?: string;
  price?: Record<string, unknown>;
}

/** MeterAdd over REST; MeterNo = MeterID = meterNo, UserID = `U` + meterNo. */
export async function openAccount(
  platform: { url: string },
  tenant: Tenant,
  meterNo: string,
  options: AccountOptions = {},
): Promise<void> {
  const payload = {
    UserID: `U${meterNo}`,
    MeterID: meterNo,
    MeterNo: meterNo,
    PreSaving: options.preSaving ?? '0',
    MeterParamModel: 'CNMCPUJE',
    MeterProtocol: 'CNModbusV61',
    ...(options.price ?? { PriceID: 'P1', PriceMode: '100', MonthCount: '1', Price1: '3.2000' }),
    DataFrom: tenant.name,
  };
  const answer = await restCall(platform.url, '/rest/Standard/meter/meteradd', JSON.stringify(payload));
  if (answer.json.ReturnCode !== 0) throw new Error(`MeterAdd ${meterNo}: ${answer.text}`);
}

export function report(meterNo: string, readAt: string, extra: Record<string, unknown> = {}) {
  return { meterNo, readAt, reading: '10.0000', valveState: '01', ...extra };
}

/** A gateway's way to the platform that a test can cut, as a network outage would. */
export interface GatewayLink {
  /** Used in place of the platform's URL. */
  url: string;
  /** While true, every call is answered 503 without reaching the platform. */
  down: boolean;
  /** Calls to these paths (e.g. `/device/v1/ack`) are answered 503, the others get through. */
  downFor: Set<string>;
  close(): Promise<void>;
}

export async function startGatewayLink(platformUrl: string): Promise<GatewayLink> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (link.down || link.downFor.has(new URL(request.url ?? '/', 'http://link').pathname)) {
        response.writeHead(503).end();
        return;
      }
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      const headers = { Authorization: request.headers.authorization ?? '', 'Content-Type': 'application/json' };
      void fetch(`${platformUrl}${request.url}`, { method: request.method, headers, body })
        .then(async (answer) => {
          response.writeHead(answer.status, { 'Content-Type': 'application/json' });
          response.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => response.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const link: GatewayLink = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    down: false,
    downFor: new Set(),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return link;
}

/** Link settings that make re-sends and failures happen in test time: a 1 s ack timeout, 2 attempts. */
export const QUICK_RETRIES = { LINK_ACK_TIMEOUT_SECONDS: '1', LINK_MAX_ATTEMPTS: '2', LINK_SWEEP_SECONDS: '3600' };

/** A platform with one gas company and a gateway of it, for the tests that play the meters. */
export async function startLinkedTenant(
  environment: Record<string, string> = {},
): Promise<{ platform: TestPlatform; tenant: Tenant; token: string }> {
  const platform = await startTestPlatform({ environment });
  const tenant = await platform.createTenant({});
  return { platform, tenant, token: await addGateway(platform, tenant) };
}

/**
 * Report times for one test file: strictly increasing, and never behind the wall clock, so that a
 * report can be newer than an acknowledgement the platform dated with now().
 */
export function reportTimes(): () => string {
  let clock = 0;
  return () => new Date((clock = Math.max(clock + 1, Date.now()))).toISOString();
}
