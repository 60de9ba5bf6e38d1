import type { CisReceiver } from '../../src/cis-receiver/cis-receiver';
import type { Tenant } from '../../src/domain/model';
import { enqueueReadingPushes, type ReadingForPush } from '../../src/push/outbox';
import { openAccount } from '../support/meter-link';
import {
  expectPushesDeliveredOnce,
  FAST_POLLING,
  outboxRows,
  outboxStates,
  pushTo,
  queryOf,
  recordDeliveries,
  startPushPlatform,
  startReceiver,
  waitFor,
} from '../support/push';
import { keyServiceOf, WORKED_EXAMPLE } from '../support/tenant-keys';
import { startTestPlatform, type TestPlatform } from '../support/test-platform';

/**
 * Tenants do not wait for each other (issue 6, isolation), several platform processes share the
 * outbox, and pushes are encrypted with the tenant's stored registration code. Reports go into the
 * outbox through the contract the meter link calls (push/outbox.ts), inside a transaction.
 */
describe('push isolation, sharing and keys', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startPushPlatform();
  });
  afterAll(() => platform?.close());

  let meterCounter = 0;
  async function tenantWithMeter(input: Partial<Tenant> = {}) {
    const tenant = await platform.createTenant(input);
    meterCounter += 1;
    const meterNo = `I${meterCounter}`;
    await openAccount(platform, tenant, meterNo);
    const [meter] = (await platform.database.dataSource.query(`SELECT id FROM meter WHERE tenant_id = $1`, [
      tenant.id,
    ])) as Array<{ id: string }>;
    return { tenant, meterNo, meterRowId: String(meter!.id) };
  }

  function readings(owner: { tenant: Tenant; meterNo: string; meterRowId: string }, count: number): ReadingForPush[] {
    return Array.from({ length: count }, (_, index) => ({
      tenantId: owner.tenant.id,
      meterRowId: owner.meterRowId,
      userNo: `U${owner.meterNo}`,
      meterNo: owner.meterNo,
      readAt: new Date(Date.UTC(2026, 4, 1, 0, 0, index)),
      reading: `${index}.5`,
      valveState: '01',
      temperature: null,
      pressure: null,
      remainMoney: '10',
      totalUsedGas: null,
      totalUsedMoney: null,
      price: '3.2',
    }));
  }

  const enqueue = (pushes: ReadingForPush[]) =>
    platform.database.dataSource.transaction((manager) => enqueueReadingPushes(manager, pushes));

  async function deliveryTime(tenant: Tenant, count: number): Promise<number> {
    const started = Date.now();
    await waitFor(
      `${count} pushes of ${tenant.code} delivered`,
      () => outboxStates(platform, tenant.id),
      (states) => states.delivered === count,
      120_000,
    );
    return Date.now() - started;
  }

  it("delivers a healthy tenant's pushes while another tenant's CIS stalls, within that tenant's limit", async () => {
    const stalled = await startReceiver({ stalled: true });
    const healthy = await startReceiver();
    const slow = await tenantWithMeter();
    const fine = await tenantWithMeter();
    try {
      // A stalled attempt holds its slot for 20 s: were the lanes not separate, the healthy
      // tenant's pushes would queue behind those slots.
      await pushTo(platform, slow.tenant, stalled, { concurrency: 3, timeoutMs: 20_000 });
      await pushTo(platform, fine.tenant, healthy, { concurrency: 8 });

      await enqueue([...readings(slow, 300), ...readings(fine, 300)]);
      const elapsed = await deliveryTime(fine.tenant, 300);

      expect(elapsed).toBeLessThan(15_000);
      expect(await outboxStates(platform, slow.tenant.id)).toMatchObject({ delivered: 0, pending: 300 });
      expect(stalled.statistics().peakInProgress).toBeLessThanOrEqual(3);
      await expectPushesDeliveredOnce(queryOf(platform), fine.tenant, healthy);
    } finally {
      await stalled.close();
      await healthy.close();
    }
  }, 180_000);

  it("delivers a healthy tenant's pushes while another tenant's CIS refuses connections", async () => {
    const gone = await startReceiver();
    const healthy = await startReceiver();
    const dead = await tenantWithMeter();
    const fine = await tenantWithMeter();
    try {
      await pushTo(platform, dead.tenant, gone);
      await gone.goDown();
      await pushTo(platform, fine.tenant, healthy, { concurrency: 8 });

      await enqueue([...readings(dead, 300), ...readings(fine, 300)]);
      expect(await deliveryTime(fine.tenant, 300)).toBeLessThan(15_000);
      expect(await outboxStates(platform, dead.tenant.id)).toMatchObject({ delivered: 0, pending: 300 });
    } finally {
      await gone.close();
      await healthy.close();
    }
  }, 180_000);

  it('shares the outbox between two platform processes on one database, each push marked delivered once', async () => {
    const receiver = await startReceiver({ failRate: 0.2 });
    const second = await startTestPlatform({
      environment: {
        ...FAST_POLLING,
        DATABASE_URL: platform.database.url,
        PLATFORM_SECRET: platform.environment.PLATFORM_SECRET,
      },
    });
    const shared = await tenantWithMeter();
    try {
      await pushTo(platform, shared.tenant, receiver, { concurrency: 8 });
      await enqueue(readings(shared, 1_000));

      await deliveryTime(shared.tenant, 1_000);
      const tally = await expectPushesDeliveredOnce(queryOf(platform), shared.tenant, receiver);
      expect(tally.pushes).toBe(1_000);
    } finally {
      await second.close();
      await receiver.close();
    }
  }, 240_000);

  it('keeps an encrypted tenant\'s pushes waiting, with the reason, until it has a registration code', async () => {
    const owner = await tenantWithMeter();
    await platform.tenants.update(owner.tenant.code, { plaintext: false });
    const receiver = await startReceiver({ registrationCode: WORKED_EXAMPLE.registrationCode });
    try {
      await pushTo(platform, owner.tenant, receiver);
      await enqueue(readings(owner, 5));
      const waiting = await waitFor('the pushes tried', () => outboxRows(platform, owner.tenant.id), (rows) =>
        rows.every((row) => row.attempts > 0 && row.last_error !== null),
      );
      expect(waiting[0]).toMatchObject({ state: 'pending', last_code: null });
      expect(waiting[0]!.last_error).toContain('not sent: the tenant has no registration code');

      await keyServiceOf(platform).issue(owner.tenant.code, WORKED_EXAMPLE.registrationCode);
      await deliveryTime(owner.tenant, 5);
      expect(receiver.statistics()).toMatchObject({ unique: 5, refused: 0 });
    } finally {
      await receiver.close();
    }
  }, 60_000);

  it("encrypts with the tenant's stored registration code; the receiver verifies and decrypts", async () => {
    const owner = await tenantWithMeter();
    const { code } = await keyServiceOf(platform).issue(owner.tenant.code);
    await platform.tenants.update(owner.tenant.code, { plaintext: false });
    const receiver = await startReceiver({ registrationCode: code });
    try {
      await pushTo(platform, owner.tenant, receiver, { format: 'soap' });
      await enqueue(readings(owner, 20));

      await deliveryTime(owner.tenant, 20);
      expect([...receiver.received.values()].every((push) => push.encrypted && push.transport === 'soap')).toBe(true);
      expect(receiver.statistics()).toMatchObject({ unique: 20, refused: 0 });
    } finally {
      await receiver.close();
    }
  }, 60_000);
});
