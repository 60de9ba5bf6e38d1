import { gzipSync } from 'node:zlib';
import { SPEC_EXAMPLES } from '../fixtures/spec-examples';
import { restCall, soapCall } from '../support/cis-client';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';

/**
 * Text PostgreSQL cannot hold (U+0000, half a surrogate pair) and dates that are not dates are the
 * caller's mistake: 80002002 naming the field, nothing stored, never a platform fault (80001010).
 */
describe('strings the database cannot hold, and impossible dates', () => {
  let platform: TestPlatform;
  const call = (path: string, payload: string) => restCall(platform.url, `/rest/Standard/${path}`, payload);
  const count = async (sql: string) =>
    ((await platform.database.dataSource.query(sql)) as Array<{ n: number }>)[0]!.n;

  beforeAll(async () => {
    platform = await startTestPlatform();
    await platform.createTenant({ code: 'cangnan', name: '苍南仪表集团' });
    expect((await call('meter/meteradd', SPEC_EXAMPLES.MeterAdd)).json.ReturnCode).toBe(0);
  });
  afterAll(() => platform?.close());

  async function expectRefused(path: string, payload: string, field: string) {
    const answer = await call(path, payload);
    expect(answer.status).toBe(200);
    expect([field, answer.json.ReturnCode]).toEqual([field, 80002002]);
    expect(answer.json.ReturnMessage).toContain(field);
  }

  it('refuses U+0000 and lone surrogates in any string field, DataFrom included', async () => {
    const recharge = (tradeNo: string) =>
      SPEC_EXAMPLES.Recharge.replace(/"TradeNo":"[^"]*"/, `"TradeNo":"${tradeNo}"`);
    await expectRefused('fee/recharge', recharge('😀😀\\u0000x'), 'TradeNo');
    await expectRefused('fee/recharge', recharge('\\ud800'), 'TradeNo');
    await expectRefused('fee/recharge', recharge('A\\udc00B'), 'TradeNo');
    await expectRefused('meter/meterSuspend', SPEC_EXAMPLES.MeterSuspend.replace('"KYNYN144860"', '"KYNYN144860\\u0000"'), 'UserID');
    await expectRefused('meter/metermodify', SPEC_EXAMPLES.MeterModify.replace(/"Phone":"[^"]*"/, '"Phone":"\\u0000"'), 'Phone');
    await expectRefused('meter/meterSuspend', SPEC_EXAMPLES.MeterSuspend.replace('苍南仪表集团', '苍南仪表集团\\u0000'), 'DataFrom');

    expect(await count(`SELECT count(*)::int AS n FROM ledger_entry WHERE kind = 'recharge'`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM meter WHERE state <> 0`)).toBe(0);
  });

  it('keeps a well-formed pair of surrogates (an emoji) as it was sent', async () => {
    const modify = SPEC_EXAMPLES.MeterModify.replace(/"UserName":"[^"]*"/, '"UserName":"燃气😀用户"');
    expect((await call('meter/metermodify', modify)).json.ReturnCode).toBe(0);
    const [customer] = await platform.database.dataSource.query(`SELECT user_name FROM customer`);
    expect(customer.user_name).toBe('燃气😀用户');
  });

  it('refuses the same over SOAP', async () => {
    const answer = await soapCall(
      platform.url,
      'MeterSuspend',
      SPEC_EXAMPLES.MeterSuspend.replace('"KYNYN144860"', '"KYNYN144860\\u0000"'),
    );
    expect(answer.result).toBe(80002002);
  });

  it('refuses dates that are not on the calendar or outside 1900 to 2099', async () => {
    const recharge = (time: string) =>
      SPEC_EXAMPLES.Recharge.replace(/"RechargeTime":"[^"]*"/, `"RechargeTime":"${time}"`);
    for (const time of [
      '2026-12-03 24:00:00',
      '2026-12-03 23:60:00',
      '2026-02-30 10:00:00',
      '0000-01-01 00:00:00',
      '0001-01-01 00:00:00',
      '1899-12-31 23:59:59',
      '2100-01-01 00:00:00',
      '2026-12-3 10:00:00',
      '2026-12-03T10:00:00',
      '2026-12-03 10:00',
    ]) {
      await expectRefused('fee/recharge', recharge(time), 'RechargeTime');
    }
    expect(await count(`SELECT count(*)::int AS n FROM ledger_entry WHERE kind = 'recharge'`)).toBe(0);

    const change = SPEC_EXAMPLES.MeterChange.replace(/"ChangeTime":"[^"]*"/, '"ChangeTime":"0001-01-01 00:00:00"');
    await expectRefused('meter/meterChange', change, 'ChangeTime');
    expect(await count(`SELECT count(*)::int AS n FROM meter WHERE state = -2`)).toBe(0);
  });

  it('still takes the first and last second of the range, and a bare date', async () => {
    const recharge = (time: string, tradeNo: string) =>
      SPEC_EXAMPLES.Recharge.replace(/"RechargeTime":"[^"]*"/, `"RechargeTime":"${time}"`).replace(
        /"TradeNo":"[^"]*"/,
        `"TradeNo":"${tradeNo}"`,
      );
    expect((await call('fee/recharge', recharge('1900-01-01 00:00:00', 'EDGE1'))).json.ReturnCode).toBe(0);
    expect((await call('fee/recharge', recharge('2099-12-31 23:59:59', 'EDGE2'))).json.ReturnCode).toBe(0);
    expect((await call('fee/recharge', recharge('2024-02-29', 'EDGE3'))).json.ReturnCode).toBe(0);
  });

  it('answers a body it cannot decode with 80002001 at HTTP 200, and reads a real gzip body', async () => {
    const post = (body: Buffer | string, encoding: string) =>
      fetch(`${platform.url}/rest/Standard/reading/ReadCurrentData`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/html;charset=utf-8', 'Content-Encoding': encoding },
        body,
      });
    const payload = '{"Meters":[{"UserID":"KYNYN144860","MeterID":"012345678912"}],"DataFrom":"苍南仪表集团"}';

    for (const [body, encoding] of [
      [payload, 'gzip'],
      [payload, 'br-unknown'],
    ] as const) {
      const answer = await post(body, encoding);
      expect([encoding, answer.status]).toEqual([encoding, 200]);
      const json = (await answer.json()) as { ReturnCode: number; ReturnMessage: string };
      expect(json.ReturnCode).toBe(80002001);
      expect(json.ReturnMessage).toContain('Content-Encoding');
    }

    const compressed = await post(gzipSync(Buffer.from(payload, 'utf8')), 'gzip');
    expect(compressed.status).toBe(200);
    expect(((await compressed.json()) as { ReturnCode: number }).ReturnCode).toBe(0);
  });
});
