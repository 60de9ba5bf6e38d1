import { PlatformError } from '../domain/errors';
import { MeterStates } from '../domain/model';
import type { OperationName } from '../domain/operations';
import { ReturnCode } from '../domain/return-codes';
import type { MeterEntity } from '../persistence/entities';
import { isUniqueViolation } from '../persistence/repositories/postgres-errors';
import type { OperationContext } from './operation';

/**
 * The user's meter, locked for the rest of the transaction. A meter that does not exist in this
 * tenant, or belongs to another user, is the same answer: 80002013 (DECISIONS §3.6 — nothing
 * tells a caller about rows it cannot see).
 */
export async function lockUserMeter(
  context: OperationContext,
  userId: string,
  meterId: string,
): Promise<MeterEntity> {
  const { store, tenant } = context;
  const meter = await store.meters.findForUpdate(tenant.id, meterId);
  const customer = meter ? await store.customers.findByUserId(tenant.id, userId) : null;
  if (!meter || !customer || customer.id !== meter.customerId) {
    throw new PlatformError(
      ReturnCode.UserMeterMismatch,
      `表具信息 与 用户信息 匹配失败，该用户下无此表信息（UserID ${userId}，MeterID ${meterId}）`,
    );
  }
  return meter;
}

/** Operations a suspended meter still accepts (DECISIONS §5.1); a closed one accepts none. */
const ALLOWED_WHEN_SUSPENDED: ReadonlySet<OperationName> = new Set([
  'MeterResume',
  'MeterModify',
  'MeterDelete',
  'ReadCurrentData',
]);

export function assertOperationAllowed(meter: MeterEntity, operation: OperationName): void {
  const closed = meter.state === MeterStates.Closed && operation !== 'ReadCurrentData';
  const suspended = meter.state === MeterStates.Suspended && !ALLOWED_WHEN_SUSPENDED.has(operation);
  if (closed || suspended) {
    const word = closed ? '已销户' : '已停用';
    throw new PlatformError(
      ReturnCode.AccountClosedOrSuspended,
      `该用户是销户、报停、休户用户，无法进行接口功能操作（表具 ${meter.meterId} ${word}）`,
    );
  }
}

/** Why a closing operation cancels what was still queued for the meter (its result_message). */
const CLOSING_REASONS = {
  MeterDelete: '表具已销户，指令取消',
  MeterChange: '表具已换表，指令取消',
} as const;

/**
 * A meter being closed gives up every command still queued on it: recharges, 返充/补扣, prices,
 * valve moves. Without this the meter link would go on delivering them when the closed meter
 * wakes up, and after a MeterChange the same money would reach both the old meter and the new
 * one. Call it before queuing the operation's own `close_account`, which must still go out.
 *
 * Commands already sent are in flight and stay (CommandRepository.cancelQueuedForMeter). The
 * ledger is not changed: the money of a cancelled recharge stays on the closed meter's ledger,
 * for the CIS to settle (MeterDelete) or to move with PreSaving (MeterChange); see
 * docs/operations.md §5.3.3 and §5.3.6.
 */
export async function cancelQueuedCommands(
  context: OperationContext,
  meter: MeterEntity,
  operation: keyof typeof CLOSING_REASONS,
): Promise<number> {
  const reason = `${CLOSING_REASONS[operation]}（${operation}，请求号 ${context.requestId}）`;
  return context.store.commands.cancelQueuedForMeter(meter.id, reason);
}

/** What a CIS says of a meter it installs: MeterAdd's new account, MeterChange's new meter. */
export type NewMeter = Pick<
  MeterEntity,
  | 'customerId'
  | 'meterId'
  | 'meterNo'
  | 'modelCode'
  | 'protocolCode'
  | 'gprsDtu'
  | 'dtuMeterType'
  | 'gprsAddr'
  | 'meterAddr'
  | 'operatorName'
  | 'areaName'
  | 'initialReading'
  | 'priceSchemeId'
  | 'openedAt'
>;

/**
 * Stores a new meter: state 0 (opened, not yet reporting), valve open, no command yet. MeterID and
 * MeterNo are never reused within a tenant, even those of closed meters; when they are taken,
 * `taken()` is the answer, whether the check sees it or the unique index of a concurrent call.
 */
export async function openMeter(
  context: OperationContext,
  meter: NewMeter,
  taken: () => PlatformError,
): Promise<MeterEntity> {
  const { store, tenant } = context;
  if (await store.meters.existsByMeterIdOrNo(tenant.id, meter.meterId, meter.meterNo)) throw taken();

  try {
    return await store.meters.insert({
      ...meter,
      tenantId: tenant.id,
      state: MeterStates.Opened,
      valveState: '01',
      lastCommandSequence: '0',
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw taken();
    throw error;
  }
}
