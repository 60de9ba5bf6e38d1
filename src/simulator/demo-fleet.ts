import type { PlatformConfig } from '../config/config';
import type { Tenant } from '../domain/model';
import type { Logger } from '../logger';
import { GatewayRepository } from '../meter-link/gateway-repository';
import type { Platform } from '../platform';
import { Store } from '../persistence/repositories/store';
import { Simulator } from './simulator';

/**
 * The demo's meters (`npm start` on the embedded database): a few accounts opened through the
 * real MeterAdd on the first start, and simulated meters for every meter of the demo tenant,
 * reporting to the platform's own device API, so that a newcomer sees readings move, balances
 * fall at the tier prices and a valve close when the money runs out.
 */

/** Three households: a standard price, a tiered one with small tiers, and one nearly out of money. */
const DEMO_ACCOUNTS = [
  { UserID: 'DEMO0001', MeterNo: 'DM0001', PreSaving: '100', PriceID: 'DEMO-STD', PriceMode: '100', MonthCount: '1', Price1: '3.2000' },
  {
    UserID: 'DEMO0002',
    MeterNo: 'DM0002',
    PreSaving: '50',
    PriceID: 'DEMO-TIER',
    PriceMode: '101',
    MonthCount: '1',
    IniDate: '2026-01-01',
    Price1: '1.2000',
    Price2: '1.8000',
    Price3: '3.0000',
    Level1: '2',
    Level2: '5',
  },
  { UserID: 'DEMO0003', MeterNo: 'DM0003', PreSaving: '5', PriceID: 'DEMO-STD', PriceMode: '100', MonthCount: '1', Price1: '3.2000' },
];

/** Opens the demo accounts over the platform's own REST interface, as a CIS would. */
export async function openDemoAccounts(platform: Platform, tenant: Pick<Tenant, 'name'>): Promise<string[]> {
  const opened: string[] = [];
  for (const account of DEMO_ACCOUNTS) {
    const payload = {
      ...account,
      UserName: account.UserID,
      MeterID: account.MeterNo,
      MeterParamModel: 'CNMCPUJE',
      MeterProtocol: 'CNModbusV61',
      DataFrom: tenant.name,
    };
    const response = await fetch(`${platform.url}/rest/Standard/meter/meteradd`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/html;charset=utf-8' },
      body: JSON.stringify(payload),
    });
    const answer = JSON.parse(await response.text()) as { ReturnCode: number; ReturnMessage: string };
    if (answer.ReturnCode !== 0) throw new Error(`demo account ${account.UserID}: ${answer.ReturnCode} ${answer.ReturnMessage}`);
    opened.push(account.MeterNo);
  }
  return opened;
}

/** Simulated meters for the demo tenant, through a gateway whose token is renewed at each start. */
export async function startDemoSimulator(
  platform: Platform,
  tenantCode: string,
  config: Pick<PlatformConfig, 'demoSimulatorIntervalSeconds'>,
  logger: Logger,
): Promise<Simulator | undefined> {
  const manager = platform.database.dataSource.manager;
  const tenant = await new Store(manager).tenants.findActiveByCode(tenantCode);
  if (!tenant) return undefined;

  const { token } = await new GatewayRepository(manager).rotate(tenant.id, 'demo-simulator');
  const simulator = new Simulator({
    url: platform.url,
    token,
    intervalMs: config.demoSimulatorIntervalSeconds * 1000,
    batteryDrainPerWake: 0.5,
    timeZone: tenant.timeZone,
    logger: logger.child({ component: 'demo-simulator' }),
  });
  simulator.start();
  return simulator;
}
