import { SPEC_EXAMPLES } from '../fixtures/spec-examples';
import { restCall, soapCall } from '../support/cis-client';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';

/** Bad input gets a spec code, never a crash, and leaves nothing half-written behind. */
describe('bad input to the account operations', () => {
  let platform: TestPlatform;
  const add = (payload: string) => restCall(platform.url, '/rest/Standard/meter/meteradd', payload);
  const withField = (key: string, value: string) =>
    SPEC_EXAMPLES.MeterAdd.replace(new RegExp(`"${key}":("[^"]*"|[^,}]+)`), `"${key}":${value}`);
  const withoutField = (key: string) =>
    SPEC_EXAMPLES.MeterAdd.replace(new RegExp(`"${key}":("[^"]*"|[^,}]+),`), '');

  beforeAll(async () => {
    platform = await startTestPlatform({ environment: { BODY_LIMIT_BYTES: '65536' } });
    await platform.createTenant({ code: 'cangnan', name: '苍南仪表集团' });
  });
  afterAll(() => platform.close());

  async function expectCode(payload: string, code: number, messagePart?: string) {
    const answer = await add(payload);
    expect(answer.status).toBe(200);
    expect(answer.json.ReturnCode).toBe(code);
    if (messagePart) expect(answer.json.ReturnMessage).toContain(messagePart);
  }

  it('answers invalid JSON with 80002001', async () => {
    await expectCode('{"UserID":', 80002001);
    await expectCode('not json at all', 80002001);
    await expectCode('', 80002001);
  });

  it('names a missing required field with 80002003', async () => {
    await expectCode(withoutField('MeterNo'), 80002003, 'MeterNo');
    await expectCode(withoutField('PreSaving'), 80002003, 'PreSaving');
    await expectCode(withoutField('MeterParamModel'), 80002003, 'MeterParamModel');
  });

  it('answers a wrong type or an out-of-range decimal with 80002002', async () => {
    await expectCode(withField('PreSaving', '"abc"'), 80002002, 'PreSaving');
    await expectCode(withField('PreSaving', '1.00005'), 80002002, 'PreSaving');
    await expectCode(withField('PreSaving', '"1234567890123"'), 80002002, 'PreSaving');
    await expectCode(withField('FireDate', '"02/09/2019"'), 80002002, 'FireDate');
    await expectCode(withField('UserName', '{"a":1}'), 80002002, 'UserName');
  });

  it('answers an over-long string with 80002003', async () => {
    await expectCode(withField('Phone', `"${'1'.repeat(21)}"`), 80002003, 'Phone');
  });

  it('answers an unknown model or protocol with 80002028 / 80002029', async () => {
    await expectCode(withField('MeterParamModel', '"NOSUCH"'), 80002028);
    await expectCode(withField('MeterProtocol', '"NOSUCH"'), 80002029);
  });

  it('answers a bad tiered price with 80002004', async () => {
    await expectCode(withField('Level1', '6000'), 80002004);
    await expectCode(withField('PriceMode', '"102"'), 80002004);
    await expectCode(withoutField('Price2'), 80002004);
  });

  it('refuses a DataFrom that is not a tenant (80003004)', async () => {
    await expectCode(withField('DataFrom', '"别的燃气公司"'), 80003004);
  });

  it('answers an oversized body with a JSON refusal, not an HTML page', async () => {
    const answer = await add(`{"UserID":"${'x'.repeat(70000)}"}`);
    expect(answer.status).toBe(413);
    expect(answer.json.ReturnCode).toBe(80002001);
    expect(answer.headers.get('content-type')).toContain('charset=utf-8');
  });

  it('answers an unknown REST path with a JSON code', async () => {
    const answer = await restCall(platform.url, '/rest/Standard/meter/nosuch', '{}');
    expect(answer.status).toBe(404);
    expect(typeof answer.json.ReturnCode).toBe('number');
  });

  it('leaves nothing behind when a request fails half-way', async () => {
    await expectCode(SPEC_EXAMPLES.MeterAdd, 0);
    // A new user and a new price are written before the meter insert meets the existing MeterID.
    const clash = SPEC_EXAMPLES.MeterAdd.replace(/KYNYN144860/g, 'NEWUSER').replace('"PriceID":"5021"', '"PriceID":"7777"');
    await expectCode(clash, 80002009);
    const manager = platform.database.dataSource.manager;
    expect(await manager.query(`SELECT count(*)::int AS n FROM price_scheme WHERE price_id = '7777'`)).toEqual([{ n: 0 }]);
    expect(await manager.query(`SELECT count(*)::int AS n FROM customer WHERE user_id = 'NEWUSER'`)).toEqual([{ n: 0 }]);
    expect(await manager.query(`SELECT count(*)::int AS n FROM meter`)).toEqual([{ n: 1 }]);
  });

  it('answers the same codes over SOAP', async () => {
    const answer = await soapCall(platform.url, 'MeterAdd', withField('MeterParamModel', '"NOSUCH"'));
    expect(answer.status).toBe(200);
    expect(answer.result).toBe(80002028);
    const parseFailure = await soapCall(platform.url, 'MeterAdd', '{"UserID":');
    expect(parseFailure.result).toBe(80002001);
  });

  it('refuses bad input to the money operations the same way, and credits nothing', async () => {
    const recharge = (amount: string) =>
      restCall(platform.url, '/rest/Standard/fee/recharge', SPEC_EXAMPLES.Recharge.replace('"50000"', amount));
    expect((await recharge('1.00005')).json.ReturnCode).toBe(80002002);
    expect((await recharge('"1234567890123"')).json.ReturnCode).toBe(80002002);
    expect((await recharge('"abc"')).json.ReturnCode).toBe(80002002);
    expect((await recharge('"1"')).json.ReturnCode).toBe(80002003);
    const manager = platform.database.dataSource.manager;
    expect(await manager.query(`SELECT count(*)::int AS n FROM ledger_entry WHERE kind = 'recharge'`)).toEqual([{ n: 0 }]);
  });
});
