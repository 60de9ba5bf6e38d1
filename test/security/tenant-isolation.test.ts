import type { DataSource } from 'typeorm';
import { CnmcspClient } from '../../src/client/cnmcsp-client';
import type { Tenant } from '../../src/domain/model';
import type { OperationName } from '../../src/domain/operations';
import { defaultMessage } from '../../src/domain/return-codes';
import { SPEC_EXAMPLES } from '../fixtures/spec-examples';
import { createKeyedTenant } from '../support/tenant-keys';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';

/**
 * DECISIONS §1 and §3.6: two gas companies holding the same UserID and MeterID never see or
 * change each other's rows. Every operation runs, encrypted, for one tenant while the other's
 * rows, in every table that has a tenant_id (tables added later included), stay exactly as
 * they were. Operations not built yet take part too and are covered once they land.
 */

// Platform starts and restarts take seconds each, many more on a busy machine.
jest.setTimeout(180_000);

interface Party {
  tenant: Tenant;
  registrationCode: string;
  client: CnmcspClient;
}

/** The lifecycle order: MeterDelete last, on whichever meter MeterChange left open. */
const SEQUENCE: OperationName[] = [
  'MeterModify',
  'MeterSuspend',
  'MeterResume',
  'ReadCurrentData',
  'Recharge',
  'CancelRecharge',
  'ChangePrice',
  'BatchChangePrice',
  'ControlValve',
  'RemainOption',
  'MeterChange',
  'MeterDelete',
];

const ACCOUNT_OPERATIONS = new Set<OperationName>(['MeterAdd', 'MeterModify', 'MeterSuspend', 'MeterResume', 'MeterDelete']);

function payloadFor(operation: OperationName, tenant: Tenant, meterId = '012345678912'): string {
  return SPEC_EXAMPLES[operation].replace(/苍南仪表集团/g, tenant.name).replace(/012345678912/g, meterId);
}

/** Every row of the tenant in every table with a tenant_id column, as comparable JSON. */
async function rowsOf(dataSource: DataSource, tenant: Tenant): Promise<Record<string, unknown[]>> {
  const tables: Array<{ name: string }> = await dataSource.query(
    `SELECT c.table_name AS name FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
      ORDER BY c.table_name`,
  );
  const rows: Record<string, unknown[]> = {};
  for (const { name } of tables) {
    const found: Array<{ row: unknown }> = await dataSource.query(
      `SELECT to_jsonb(r) AS row FROM "${name}" r WHERE tenant_id = $1 ORDER BY to_jsonb(r)::text`,
      [tenant.id],
    );
    rows[name] = found.map(({ row }) => row);
  }
  return rows;
}

describe('two tenants with the same UserID and MeterID', () => {
  let platform: TestPlatform;
  let first: Party;
  let second: Party;

  beforeAll(async () => {
    platform = await startTestPlatform();
    const party = async (code: string, name: string, transport: 'rest' | 'soap'): Promise<Party> => {
      const { tenant, code: registrationCode } = await createKeyedTenant(platform, { code, name });
      return { tenant, registrationCode, client: new CnmcspClient({ baseUrl: platform.url, transport, registrationCode }) };
    };
    first = await party('jia', '甲燃气公司', 'rest');
    second = await party('yi', '乙燃气公司', 'soap');
  });
  afterAll(() => platform.close());

  it('both open the same account', async () => {
    for (const { tenant, client } of [first, second]) {
      expect(await client.call('MeterAdd', payloadFor('MeterAdd', tenant))).toMatchObject({ returnCode: 0, verified: true });
    }
    const meters = await platform.database.dataSource.query(`SELECT tenant_id FROM meter WHERE meter_id = '012345678912' ORDER BY tenant_id`);
    expect(meters).toEqual([{ tenant_id: first.tenant.id }, { tenant_id: second.tenant.id }]);
  });

  it.each([
    ['the first', () => [first, second] as const],
    ['the second', () => [second, first] as const],
  ])('every operation of %s changes none of the other’s rows', async (_name, parties) => {
    const [actor, bystander] = parties();
    const dataSource = platform.database.dataSource;
    let openMeter = '012345678912';

    for (const operation of SEQUENCE) {
      const before = await rowsOf(dataSource, bystander.tenant);
      const answer = await actor.client.call(operation, payloadFor(operation, actor.tenant, openMeter));

      expect(answer.verified).toBe(true);
      expect(defaultMessage(answer.returnCode)).not.toBe('未知错误');
      if (ACCOUNT_OPERATIONS.has(operation)) expect([operation, answer.returnCode]).toEqual([operation, 0]);
      if (operation === 'MeterChange' && answer.returnCode === 0) openMeter = '012345678919';
      expect(await rowsOf(dataSource, bystander.tenant)).toEqual(before);
    }

    const [actorMeter] = await dataSource.query(`SELECT state FROM meter WHERE tenant_id = $1 AND meter_id = $2`, [actor.tenant.id, openMeter]);
    expect(actorMeter).toEqual({ state: -2 });
  });

  it('refuses a request naming the other tenant in DataFrom (80003004) or sent to its path (80003001)', async () => {
    const before = await rowsOf(platform.database.dataSource, second.tenant);
    const reopen = payloadFor('MeterAdd', second.tenant, '012345678988');
    expect((await first.client.call('MeterAdd', reopen)).returnCode).toBe(80003004);

    const onOtherPath = new CnmcspClient({ baseUrl: `${platform.url}/yi`, transport: 'rest', registrationCode: first.registrationCode });
    const ownNameOnOtherPath = payloadFor('MeterAdd', first.tenant, '012345678988');
    expect(await onOtherPath.call('MeterAdd', ownNameOnOtherPath)).toMatchObject({ returnCode: 80003001, verified: false });
    expect(await rowsOf(platform.database.dataSource, second.tenant)).toEqual(before);
  });
});
