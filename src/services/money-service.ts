import type { Exact } from '../domain/decimal';
import { PlatformError } from '../domain/errors';
import { requiredAmount, requiredDate, requiredInteger, requiredString } from '../domain/fields';
import type { PayloadObject } from '../domain/payload';
import { ReturnCode } from '../domain/return-codes';
import type { LedgerEntryEntity, LedgerKind, MeterEntity } from '../persistence/entities';
import { isUniqueViolation } from '../persistence/repositories/postgres-errors';
import { postToLedger } from './ledger-posting';
import type { OperationContext } from './operation';
import { assertMeterSideBilling, lockMeterFor, readOperatorName } from './operation-guards';

/**
 * Money on a meter (spec §5.3.8, §5.3.9, §5.3.13; DECISIONS §5.4): Recharge, CancelRecharge and
 * RemainOption. Each writes one ledger entry and, where the meter must act, one command, in the
 * transaction that holds the meter locked. Amounts stay exact decimals from request to database,
 * and what they add up to must fit NUMBER(16,4) too (postToLedger, DECISIONS §4).
 *
 * A TradeNo is credited at most once per tenant, whatever the concurrency: the ledger's unique
 * index `ledger_entry_trade_no_key` refuses the second one, and the refusal becomes the spec's
 * code. Nothing is read beforehand to decide it.
 */

const TRADE_NO_INDEX = 'ledger_entry_trade_no_key';
/** From the initial schema: `cancels_entry_id bigint UNIQUE`, so a recharge is cancelled once. */
const CANCELS_ENTRY_INDEX = 'ledger_entry_cancels_entry_id_key';

/** spec §5.3.13 CMDOption: 1000 returns money to the meter (返充), 2000 deducts it (补扣). */
const REMAIN_OPTIONS = {
  1000: { kind: 'refund', sign: 1 },
  2000: { kind: 'deduct', sign: -1 },
} as const satisfies Record<number, { kind: LedgerKind; sign: 1 | -1 }>;
type RemainOptionCode = keyof typeof REMAIN_OPTIONS;

/** spec §5.3.8: money for the meter, sent to it as a `recharge` command. */
export async function recharge(payload: PayloadObject, context: OperationContext): Promise<void> {
  assertMeterSideBilling(context, 'Recharge');
  const request = readTrade(payload, context, { amountKey: 'RechargeAmt', timeKey: 'RechargeTime' });
  assertRechargeAmount(request.amount);
  const meter = await lockMeterFor(context, request, 'Recharge', { remote: true });

  const command = await context.store.commands.enqueue({
    tenantId: context.tenant.id,
    meterId: meter.id,
    kind: 'recharge',
    payload: { amount: request.amount.toFixed(4), tradeNo: request.tradeNo, reason: 'recharge' },
    correlationId: context.requestId,
  });
  await appendTrade(context, meter, { ...request, kind: 'recharge', commandId: command.id }, ReturnCode.TradeNoExists);
}

/** spec §5.3.8: "充值金额大于 1" (DECISIONS §5.4). */
function assertRechargeAmount(amount: Exact): void {
  if (amount.gt(1)) return;
  throw new PlatformError(
    ReturnCode.MissingOrInvalidField,
    `字段不符合规范：RechargeAmt 必须大于 1（收到 ${amount.toFixed(4)}）`,
  );
}

/**
 * spec §5.3.9: a recharge is withdrawn only while its command has not left for the meter. The
 * command's compare-and-set decides it (see CommandRepository.cancelIfQueued), and a negative
 * `recharge_cancel` entry, linked to the recharge by a unique column, balances the ledger. A
 * recharge that failed or expired at the meter is already reversed: 80002030.
 */
export async function cancelRecharge(payload: PayloadObject, context: OperationContext): Promise<void> {
  assertMeterSideBilling(context, 'CancelRecharge');
  const request = readTrade(payload, context, { amountKey: 'CancelAmt', timeKey: 'CancelTime' });
  const meter = await lockMeterFor(context, request, 'CancelRecharge', { remote: false });

  const rechargeEntry = await findRechargeOf(context, meter, request.tradeNo);
  assertSameAmount(rechargeEntry, request.amount);
  await withdrawRechargeCommand(context, rechargeEntry);
  await appendCancellation(context, meter, rechargeEntry, request);
}

/** The recharge with this TradeNo on this meter; anything else is 80002037. */
async function findRechargeOf(
  context: OperationContext,
  meter: MeterEntity,
  tradeNo: string,
): Promise<LedgerEntryEntity> {
  const entry = await context.store.ledger.findTrade(context.tenant.id, tradeNo);
  if (!entry || entry.kind !== 'recharge' || entry.meterId !== meter.id) {
    throw new PlatformError(
      ReturnCode.TradeNoNotFound,
      `传入参数的指令流水号不存在：表具 ${meter.meterId} 没有流水号为 ${tradeNo} 的充值`,
    );
  }
  return entry;
}

/**
 * spec §5.3.9: CancelAmt is checked together with the TradeNo. A different amount means the CIS
 * means another recharge than the one stored, so nothing is cancelled: 80002027, saying why.
 */
function assertSameAmount(entry: LedgerEntryEntity, amount: Exact): void {
  if (amount.eq(entry.amount)) return;
  throw new PlatformError(
    ReturnCode.CancelRechargeFailed,
    `取消远程充值失败：CancelAmt ${amount.toFixed(4)} 与流水号 ${entry.tradeNo} 的充值金额 ` +
      `${entry.amount} 不符`,
  );
}

/**
 * A recharge whose command failed or expired never reached the meter, and the meter link has
 * already reversed it in the ledger (REVERSE_UNAPPLIED_MONEY): there is nothing left to cancel,
 * and the answer is the spec's 80002030 远程充值失败, so the CIS learns the recharge failed. The
 * TradeNo stays used (80002033 on a repeat); the CIS retries with a new one.
 */
async function withdrawRechargeCommand(context: OperationContext, entry: LedgerEntryEntity): Promise<void> {
  const { commands } = context.store;
  if (entry.commandId !== null && (await commands.cancelIfQueued(entry.commandId))) return;

  const state = entry.commandId === null ? undefined : (await commands.findById(entry.commandId))?.state;
  if (state === 'failed' || state === 'expired') {
    const why = state === 'failed' ? '表具拒绝或未应答' : '表具未能在有效期内接收';
    throw new PlatformError(
      ReturnCode.RechargeFailed,
      `远程充值失败：流水号 ${entry.tradeNo} 的充值未能在表具上执行（${why}），金额已冲正，无需取消`,
    );
  }
  const reason = state === 'cancelled' ? '该充值已取消' : '充值指令已下发至表具，无法取消';
  throw new PlatformError(
    ReturnCode.CancelRechargeFailed,
    `取消远程充值失败：${reason}（流水号 ${entry.tradeNo}）`,
  );
}

async function appendCancellation(
  context: OperationContext,
  meter: MeterEntity,
  rechargeEntry: LedgerEntryEntity,
  request: TradeRequest,
): Promise<void> {
  try {
    await postToLedger(context, request.amountKey, [
      {
        meter,
        kind: 'recharge_cancel',
        tradeNo: request.tradeNo,
        amount: request.amount.negated(),
        operatorName: request.operatorName,
        occurredAt: request.occurredAt,
        commandId: rechargeEntry.commandId,
        cancelsEntryId: rechargeEntry.id,
      },
    ]);
  } catch (error) {
    if (!isUniqueViolation(error, CANCELS_ENTRY_INDEX)) throw error;
    throw new PlatformError(
      ReturnCode.CancelRechargeFailed,
      `取消远程充值失败：该充值已取消（流水号 ${request.tradeNo}）`,
    );
  }
}

/**
 * spec §5.3.13: 返充 (1000) puts money back on the meter, 补扣 (2000) takes it off; either way the
 * meter is told with a `remain_option` command and the ledger records the signed amount. The
 * platform does not refuse a deduction larger than the balance it knows: the meter bills, and
 * only the meter knows what it holds. It refuses only one that takes TotalBuyMoney or the balance
 * out of NUMBER(16,4) (postToLedger).
 */
export async function remainOption(payload: PayloadObject, context: OperationContext): Promise<void> {
  assertMeterSideBilling(context, 'RemainOption');
  const request = readTrade(payload, context, { amountKey: 'OptionAmt', timeKey: 'OptionTime' });
  const option = readRemainOption(payload);
  assertPositive(request.amount, 'OptionAmt');
  const meter = await lockMeterFor(context, request, 'RemainOption', { remote: true });

  const command = await context.store.commands.enqueue({
    tenantId: context.tenant.id,
    meterId: meter.id,
    kind: 'remain_option',
    payload: { option, amount: request.amount.toFixed(4), tradeNo: request.tradeNo },
    correlationId: context.requestId,
  });
  const { kind, sign } = REMAIN_OPTIONS[option];
  const signed = { ...request, amount: sign < 0 ? request.amount.negated() : request.amount };
  await appendTrade(context, meter, { ...signed, kind, commandId: command.id }, ReturnCode.OptionTradeNoExists);
}

function readRemainOption(payload: PayloadObject): RemainOptionCode {
  const option = requiredInteger(payload, 'CMDOption');
  if (option === 1000 || option === 2000) return option;
  throw new PlatformError(
    ReturnCode.MissingOrInvalidField,
    `字段不符合规范：CMDOption 只能是 1000（返充）或 2000（补扣），收到 ${option}`,
  );
}

function assertPositive(amount: Exact, key: string): void {
  if (amount.gt(0)) return;
  throw new PlatformError(ReturnCode.MissingOrInvalidField, `字段不符合规范：${key} 必须大于 0`);
}

type TradeRequest = ReturnType<typeof readTrade>;

/** The fields Recharge, CancelRecharge and RemainOption share; only two of their names differ. */
function readTrade(
  payload: PayloadObject,
  context: OperationContext,
  keys: { amountKey: string; timeKey: string },
) {
  return {
    userId: requiredString(payload, 'UserID', 50),
    meterId: requiredString(payload, 'MeterID', 50),
    tradeNo: requiredString(payload, 'TradeNo', 50),
    occurredAt: requiredDate(payload, keys.timeKey, context.tenant.timeZone),
    amount: requiredAmount(payload, keys.amountKey),
    /** The request field that carried the amount, for a refusal to name. */
    amountKey: keys.amountKey,
    operatorName: readOperatorName(payload),
  };
}

/**
 * Posts a TradeNo-bearing entry. A TradeNo the tenant has used before, by this call's transaction
 * or by one that committed first, meets the unique index: `duplicateCode`.
 */
async function appendTrade(
  context: OperationContext,
  meter: MeterEntity,
  entry: TradeRequest & { kind: LedgerKind; commandId: string },
  duplicateCode: typeof ReturnCode.TradeNoExists | typeof ReturnCode.OptionTradeNoExists,
): Promise<void> {
  try {
    await postToLedger(context, entry.amountKey, [
      {
        meter,
        kind: entry.kind,
        tradeNo: entry.tradeNo,
        amount: entry.amount,
        operatorName: entry.operatorName,
        occurredAt: entry.occurredAt,
        commandId: entry.commandId,
      },
    ]);
  } catch (error) {
    if (!isUniqueViolation(error, TRADE_NO_INDEX)) throw error;
    throw new PlatformError(duplicateCode, `${duplicateMessage(duplicateCode)}：${entry.tradeNo}`);
  }
}

function duplicateMessage(code: number): string {
  return code === ReturnCode.TradeNoExists ? '交易流水号已存在' : '传入参数的流水号已经存在';
}
