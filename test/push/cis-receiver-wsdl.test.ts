import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as soap from 'soap';
import type { CisReceiver } from '../../src/cis-receiver/cis-receiver';
import { enqueueAlarmPushes } from '../../src/push/outbox';
import { PushAdmin } from '../../src/push/push-admin';
import { describeIfTools } from '../support/interop';
import { openAccount } from '../support/meter-link';
import { FAST_POLLING, outboxStates, startReceiver, waitFor } from '../support/push';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';

const run = promisify(execFile);
const WSDL_FILE = path.resolve(__dirname, '../../wsdl/CIS_PushReceiver.wsdl');

/**
 * wsdl/CIS_PushReceiver.wsdl is what a CIS team builds its receiver from (docs/cis-push.md): a
 * server generated from it receives the platform's SOAP pushes, and clients generated from the
 * reference receiver's ?wsdl (node-soap; mono's wsdl.exe, as .NET "Add Web Reference") call it.
 */
describe('the push receiver WSDL', () => {
  let platform: TestPlatform;
  let receiver: CisReceiver;

  beforeAll(async () => {
    platform = await startTestPlatform({ environment: FAST_POLLING });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await platform?.close();
    await receiver?.close();
  });

  it("is served by a SOAP server generated from it, which receives the platform's pushes", async () => {
    const calls: Array<{ operation: string; payload: Record<string, unknown> }> = [];
    const answer = (operation: string) => (args: { EncryptData: string }) => {
      calls.push({ operation, payload: JSON.parse(args.EncryptData) as Record<string, unknown> });
      return { [`${operation}Result`]: 0, EncryptData: '{"ReturnCode":0,"ReturnMessage":"ok"}', DisperseKey: '', MacValue: '' };
    };
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    soap.listen(server, '/CIS_PushReceiver.asmx', {
      CIS_PushReceiver: {
        CIS_PushReceiverSoap: {
          ReceiveRealTimeData: answer('ReceiveRealTimeData'),
          ReceiveAlarmData: answer('ReceiveAlarmData'),
        },
      },
    }, readFileSync(WSDL_FILE, 'utf8'));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/CIS_PushReceiver.asmx`;

    try {
      const tenant = await platform.createTenant({});
      await openAccount(platform, tenant, 'W1');
      const [meter] = (await platform.database.dataSource.query(`SELECT id FROM meter WHERE tenant_id = $1`, [
        tenant.id,
      ])) as Array<{ id: string }>;
      await new PushAdmin(platform.database.dataSource).configure(tenant.code, {
        format: 'soap',
        alarmUrl: url,
        timeoutMs: 2_000,
      });
      await platform.database.dataSource.transaction((manager) =>
        enqueueAlarmPushes(manager, [
          { tenantId: tenant.id, meterRowId: String(meter!.id), userNo: 'UW1', meterNo: 'W1', alarmAt: new Date(), alarmType: 'LEAK', alarmMessage: '疑似燃气泄漏' },
        ]),
      );

      await waitFor('the alarm delivered', () => outboxStates(platform, tenant.id), (states) => states.delivered === 1);
      expect(calls).toEqual([
        { operation: 'ReceiveAlarmData', payload: expect.objectContaining({ cmdCode: 'AlarmData', AlarmType: 'LEAK', meterNo: 'W1' }) },
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("gives node-soap a client whose calls the reference receiver stores", async () => {
    const client = await soap.createClientAsync(`${receiver.soapUrl}?wsdl`);
    const payload = JSON.stringify({ cmdCode: 'RealTimeData', DataFrom: '苍南仪表集团', requestSerialNo: 'NODESOAP-1', meterNo: 'M', userNo: 'U' });
    const [result] = (await client.ReceiveRealTimeDataAsync({ EncryptData: payload, DisperseKey: '', MacValue: '' })) as [
      { ReceiveRealTimeDataResult: number; EncryptData: string },
    ];

    expect(result.ReceiveRealTimeDataResult).toBe(0);
    expect(JSON.parse(result.EncryptData)).toMatchObject({ ReturnCode: 0 });
    expect(receiver.received.get('NODESOAP-1')).toMatchObject({ transport: 'soap', count: 1, cmdCode: 'RealTimeData' });
  });

  describeIfTools(['mono', 'mcs', 'wsdl'], 'in mono (wsdl.exe, as "Add Web Reference")', () => {
    let directory: string;
    beforeAll(() => {
      directory = mkdtempSync(path.join(tmpdir(), 'mono-push-wsdl-'));
    });
    afterAll(() => rmSync(directory, { recursive: true, force: true }));

    it('generates int Op(ref string ×3) for both operations, and a program pushes through it', async () => {
      await run('wsdl', ['-out:Proxy.cs', '-n:WebReference', `${receiver.soapUrl}?wsdl`], { cwd: directory });
      const proxy = readFileSync(path.join(directory, 'Proxy.cs'), 'utf8');
      const parameters = 'ref string EncryptData, ref string DisperseKey, ref string MacValue';
      expect(proxy).toContain(`public int ReceiveRealTimeData(${parameters})`);
      expect(proxy).toContain(`public int ReceiveAlarmData(${parameters})`);

      writeFileSync(
        path.join(directory, 'Program.cs'),
        `using System;
class Program {
  static void Main() {
    var service = new WebReference.CIS_PushReceiver();
    string data = "{\\"cmdCode\\":\\"AlarmData\\",\\"DataFrom\\":\\"苍南仪表集团\\",\\"requestSerialNo\\":\\"MONO-1\\"}", key = "", mac = "";
    int result = service.ReceiveAlarmData(ref data, ref key, ref mac);
    Console.WriteLine(result + "|" + data);
  }
}`,
        'utf8',
      );
      await run('mcs', ['-target:library', '-r:System.Web.Services', '-out:Proxy.dll', 'Proxy.cs'], { cwd: directory });
      await run('mcs', ['-r:Proxy.dll', '-r:System.Web.Services', '-codepage:utf8', '-out:Program.exe', 'Program.cs'], {
        cwd: directory,
      });
      const { stdout } = await run('mono', ['Program.exe'], { cwd: directory, env: { ...process.env, LANG: 'C.UTF-8' } });

      expect(stdout.trim()).toBe('0|{"ReturnCode":0,"ReturnMessage":"接收成功"}');
      expect(receiver.received.get('MONO-1')).toMatchObject({ transport: 'soap', cmdCode: 'AlarmData' });
    }, 120_000);
  });
});
