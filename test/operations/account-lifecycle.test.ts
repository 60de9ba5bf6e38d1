import { SPEC_EXAMPLES } from '../fixtures/spec-examples';
import { restCall, soapCall } from '../support/cis-client';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';

/**
 * spec §5.3.1 to §5.3.5 end to end over real HTTP and a real database: the spec's own examples,
 * sent verbatim, then the repeats that must fail with their codes.
 */
const REST = {
  MeterAdd: '/rest/Standard/meter/meteradd',
  MeterModify: '/rest/Standard/meter/metermodify',
  MeterDelete: '/rest/Standard/meter/meterDelete',
  MeterSuspend: '/rest/Standard/meter/meterSuspend',
  MeterResume: '/rest/Standard/meter/meterResume',
} as const;

type Op = keyof typeof REST;
type Transport = 'rest' | 'soap';

async function call(platform: TestPlatform, transport: Transport, op: Op, payload: string) {
  if (transport === 'rest') {
    const answer = await restCall(platform.url, REST[op], payload);
    expect(answer.status).toBe(200);
    return { code: answer.json.ReturnCode as number, message: answer.json.ReturnMessage as string };
  }
  const answer = await soapCall(platform.url, op, payload);
  expect(answer.status).toBe(200);
  const json = JSON.parse(answer.encryptData) as { ReturnCode: number; ReturnMessage: string };
  expect(json.ReturnCode).toBe(answer.result);
  return { code: answer.result, message: json.ReturnMessage };
}

describe.each<Transport>(['rest', 'soap'])('account lifecycle over %s', (transport) => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform();
    await platform.createTenant({ code: 'cangnan', name: '苍南仪表集团' });
  });
  afterAll(() => platform.close());

  it('opens the account of the spec example and refuses to open it twice (80002009)', async () => {
    expect(await call(platform, transport, 'MeterAdd', SPEC_EXAMPLES.MeterAdd)).toEqual({
      code: 0,
      message: '接口功能执行成功',
    });
    expect((await call(platform, transport, 'MeterAdd', SPEC_EXAMPLES.MeterAdd)).code).toBe(80002009);
  });

  it('stores the account with the spec defaults, its price, its opening balance and its commands', async () => {
    const manager = platform.database.dataSource.manager;
    const [meter] = await manager.query(
      `SELECT m.state, m.valve_state, m.gprs_dtu, m.area_name, m.operator_name, m.initial_reading,
              p.price_mode, p.price1, p.price3, p.level2, c.user_name, c.building_name
         FROM meter m JOIN price_scheme p ON p.id = m.price_scheme_id JOIN customer c ON c.id = m.customer_id
        WHERE m.meter_id = '012345678912'`,
    );
    expect(meter).toEqual({
      state: 0,
      valve_state: '01',
      gprs_dtu: '012345678912',
      area_name: '默认区域',
      operator_name: 'admin',
      initial_reading: '0.0000',
      price_mode: 101,
      price1: '1.2000',
      price3: '3.0000',
      level2: '5000',
      user_name: 'KYNYN144860',
      building_name: '3单元 3栋',
    });
    const ledger = await manager.query(`SELECT kind, amount FROM ledger_entry`);
    expect(ledger).toEqual([{ kind: 'opening', amount: '1000.0000' }]);
    const commands = await manager.query(`SELECT kind, sequence, state FROM meter_command ORDER BY sequence`);
    expect(commands).toEqual([
      { kind: 'open_account', sequence: '1', state: 'queued' },
      { kind: 'recharge', sequence: '2', state: 'queued' },
    ]);
  });

  it('modifies the user of the spec example', async () => {
    expect((await call(platform, transport, 'MeterModify', SPEC_EXAMPLES.MeterModify)).code).toBe(0);
    const [customer] = await platform.database.dataSource.manager.query(
      `SELECT building_name, room FROM customer WHERE user_id = 'KYNYN144860'`,
    );
    expect(customer).toEqual({ building_name: '3 单元 3栋', room: '503室' });
  });

  it('refuses a meter that is not this user’s (80002013) and an unknown user (80002011)', async () => {
    const wrongUser = '{"UserID":"NOBODY","MeterID":"012345678912","DataFrom":"苍南仪表集团"}';
    expect((await call(platform, transport, 'MeterSuspend', wrongUser)).code).toBe(80002013);
    expect((await call(platform, transport, 'MeterModify', wrongUser)).code).toBe(80002011);
    const wrongMeter = '{"UserID":"KYNYN144860","MeterID":"999","DataFrom":"苍南仪表集团"}';
    expect((await call(platform, transport, 'MeterModify', wrongMeter)).code).toBe(80002013);
  });

  it('suspends, refuses a second suspension (80002023), resumes, and refuses a second resume (80002026)', async () => {
    expect((await call(platform, transport, 'MeterSuspend', SPEC_EXAMPLES.MeterSuspend)).code).toBe(0);
    expect((await call(platform, transport, 'MeterSuspend', SPEC_EXAMPLES.MeterSuspend)).code).toBe(80002023);
    expect((await call(platform, transport, 'MeterModify', SPEC_EXAMPLES.MeterModify)).code).toBe(0);
    expect((await call(platform, transport, 'MeterResume', SPEC_EXAMPLES.MeterResume)).code).toBe(0);
    expect((await call(platform, transport, 'MeterResume', SPEC_EXAMPLES.MeterResume)).code).toBe(80002026);
  });

  it('closes the account, then refuses everything on it (80002023) and a new account with its meter (80002009)', async () => {
    expect((await call(platform, transport, 'MeterDelete', SPEC_EXAMPLES.MeterDelete)).code).toBe(0);
    for (const op of ['MeterDelete', 'MeterSuspend', 'MeterResume', 'MeterModify'] as const) {
      expect((await call(platform, transport, op, SPEC_EXAMPLES[op])).code).toBe(80002023);
    }
    expect((await call(platform, transport, 'MeterAdd', SPEC_EXAMPLES.MeterAdd)).code).toBe(80002009);
    const [command] = await platform.database.dataSource.manager.query(
      `SELECT kind FROM meter_command ORDER BY sequence DESC LIMIT 1`,
    );
    expect(command).toEqual({ kind: 'close_account' });
  });

  it('opens a new meter for a user whose meters are all closed', async () => {
    const reopened = SPEC_EXAMPLES.MeterAdd.replace(/012345678912/g, '012345678999');
    expect((await call(platform, transport, 'MeterAdd', reopened)).code).toBe(0);
  });
});
