import type { Platform } from './platform';
import { TenantService } from './services/tenant-service';
import { openDemoAccounts } from './simulator/demo-fleet';

export const DEMO_TENANT = { code: 'cangnan', name: '苍南仪表集团' } as const;

/**
 * On the first start with the embedded database there is no tenant yet: create a plaintext demo
 * tenant so that a newcomer can call the platform at once, and say how.
 */
export async function ensureDemoTenant(
  platform: Platform,
  options: { accounts: boolean } = { accounts: false },
): Promise<string | undefined> {
  const tenants = new TenantService(platform.database.dataSource);
  if ((await tenants.list()).length > 0) return undefined;

  const tenant = await tenants.create({ ...DEMO_TENANT, plaintext: true, billingMode: 'meter' });
  const accounts = options.accounts ? await openDemoAccounts(platform, tenant) : [];
  return demoInstructions(platform.url, accounts);
}

function demoInstructions(url: string, accounts: string[]): string {
  const payload =
    '{"UserID":"KYNYN144860","MeterID":"012345678912","MeterNo":"012345678912",' +
    '"UserName":"KYNYN144860","PreSaving":"0","MeterParamModel":"CNMCPUJE",' +
    '"MeterProtocol":"CNModbusV61","PriceID":"5021","PriceMode":"100","MonthCount":"12",' +
    '"Price1":3.2,"DataFrom":"苍南仪表集团"}';
  return [
    '',
    `Demo tenant created: ${DEMO_TENANT.name} (code ${DEMO_TENANT.code}), plaintext mode, meter-side billing.`,
    `  WSDL:  ${url}/WSI_MIDDataServices.asmx?wsdl`,
    `  REST:  ${url}/rest/Standard/...`,
    '  Open an account over REST:',
    `    curl -s -X POST ${url}/rest/Standard/meter/meteradd \\`,
    `      -H 'Content-Type: text/html;charset=utf-8' -d '${payload}'`,
    ...(accounts.length === 0
      ? []
      : [
          `  Demo accounts opened: ${accounts.join(', ')}; simulated meters report every few seconds:`,
          `    curl -s -X POST ${url}/rest/Standard/reading/ReadCurrentData \\`,
          `      -d '{"Meters":[{"UserID":"DEMO0001","MeterID":"DM0001"},{"UserID":"DEMO0003","MeterID":"DM0003"}],"DataFrom":"苍南仪表集团"}'`,
          '    npm run cli -- command list --tenant cangnan',
          '  Watch their readings and alarms pushed to a CIS (spec §6, docs/cis-push.md):',
          '    npm run cli -- cis-receiver --port 9090 &',
          '    npm run cli -- push set cangnan --reading-url http://127.0.0.1:9090/rest/RealTimeData \\',
          '      --alarm-url http://127.0.0.1:9090/rest/AlarmData',
          '    curl -s http://127.0.0.1:9090/admin/stats',
        ]),
    '',
  ].join('\n');
}
