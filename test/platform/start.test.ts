import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { restCall } from '../support/cis-client';
import { startChildPlatform } from '../support/child-platform';

/** The README's start command on a fresh machine: embedded database, demo tenant, WSDL served. */
describe('starting the platform with nothing configured', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnmcsp-start-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('creates the embedded database and the demo tenant, serves the WSDL, and keeps data across a restart', async () => {
    const environment = { DATA_DIR: dataDir, DATABASE_URL: '' };
    const first = await startChildPlatform(environment);
    try {
      expect(first.output()).toContain('Demo tenant created: 苍南仪表集团');
      const wsdl = await fetch(`${first.url}/WSI_MIDDataServices.asmx?wsdl`);
      expect(wsdl.status).toBe(200);
      expect(await wsdl.text()).toContain('name="WSI_MIDDataServices"');

      const payload =
        '{"UserID":"U1","MeterID":"M1","MeterNo":"M1","PreSaving":"0","MeterParamModel":"CNMCPUJE",' +
        '"MeterProtocol":"CNModbusV61","PriceID":"1","PriceMode":"100","MonthCount":"1","Price1":3.2,' +
        '"DataFrom":"苍南仪表集团"}';
      const answer = await restCall(first.url, '/rest/Standard/meter/meteradd', payload);
      expect(answer.json.ReturnCode).toBe(0);
    } finally {
      const code = await first.stop('SIGTERM');
      expect(code).toBe(0);
    }

    const second = await startChildPlatform(environment);
    try {
      expect(second.output()).not.toContain('Demo tenant created');
      const payload = '{"UserID":"U1","MeterID":"M1","DataFrom":"苍南仪表集团"}';
      const answer = await restCall(second.url, '/rest/Standard/meter/meterSuspend', payload);
      expect(answer.json.ReturnCode).toBe(0);
    } finally {
      await second.stop('SIGTERM');
    }
  }, 180_000);

  it('refuses to start with a bad setting and says what to fix', async () => {
    await expect(startChildPlatform({ DATA_DIR: dataDir, DATABASE_URL: 'mysql://nowhere' })).rejects.toThrow(
      /DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL/,
    );
  }, 180_000);
});
