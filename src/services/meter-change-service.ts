import { Exact } from '../domain/decimal';
import { PlatformError } from '../domain/errors';
import { optionalAmount, optionalString, requiredAmount, requiredDate, requiredString } from '../domain/fields';
import { MeterStates } from '../domain/model';
import type { PayloadObject } from '../domain/payload';
import { ReturnCode } from '../domain/return-codes';
import type { MeterEntity, MeterModelEntity } from '../persistence/entities';
import { METER_DEFAULTS, checkCatalogue, openAccountPayload } from './account-service';
import { postToLedger } from './ledger-posting';
import { assertOperationAllowed, cancelQueuedCommands, lockUserMeter, openMeter } from './meter-access';
import type { OperationContext } from './operation';
import { readOperatorName } from './operation-guards';

/**
 * spec §5.3.6 MeterChange (换表): the user's old meter is closed with its end reading and a new
 * meter opened in its place, in one transaction.
 *
 * - The old meter becomes -2 (DECISIONS §5.1) with `end_reading` = OldENDREADING and
 *   `replaced_by` = the new meter, its commands still queued are cancelled (the balance they
 *   carry is PreSaving's to move, not theirs to deliver), and it is told to close its account
 *   if it can be reached.
 * - The new meter belongs to the same user, takes the New* fields with the defaults of spec §5.3.6,
 *   keeps the old meter's price, and is told to open its account.
 * - PreSaving > 0 moves that balance (DECISIONS §5.4): a transfer_out entry on the old meter, a
 *   transfer_in entry on the new one and a `recharge` command (reason 'transfer') after its
 *   opening. The CIS names the amount, and the platform does not hold it to the balance its
 *   ledger shows (DECISIONS says nothing of it, and only the meter knows what it has billed), so
 *   the old meter's balance may go below zero; it must stay within NUMBER(16,4) (postToLedger).
 * A new MeterID or MeterNo the tenant has ever used is 80002015.
 */
export async function meterChange(payload: PayloadObject, context: OperationContext): Promise<void> {
  const request = readMeterChange(payload, context);
  assertTransferAllowed(context, request.preSaving);
  const oldMeter = await lockUserMeter(context, request.userId, request.oldMeterId);
  assertOperationAllowed(oldMeter, 'MeterChange');
  const model = await checkCatalogue(context, request);
  assertRemoteForTransfer(model, request.preSaving);

  const newMeter = await insertNewMeter(context, oldMeter, request);
  await closeOldMeter(context, oldMeter, newMeter, request);
  await openNewMeter(context, newMeter, model);
  if (request.preSaving.gt(0)) await transferBalance(context, oldMeter, newMeter, request);
}

type MeterChangeRequest = ReturnType<typeof readMeterChange>;

function readMeterChange(payload: PayloadObject, context: OperationContext) {
  const newMeterNo = requiredString(payload, 'NewMeterNo', 50);
  return {
    userId: requiredString(payload, 'UserID', 50),
    oldMeterId: requiredString(payload, 'OldMeterID', 50),
    oldEndReading: requiredAmount(payload, 'OldENDREADING'),
    newMeterId: requiredString(payload, 'NewMeterID', 50),
    newMeterNo,
    modelCode: requiredString(payload, 'NewMeterParamModel', 50),
    protocolCode: requiredString(payload, 'NewMeterProtocol', 50),
    initialReading: requiredAmount(payload, 'NewMeterReading'),
    changedAt: requiredDate(payload, 'ChangeTime', context.tenant.timeZone),
    preSaving: optionalAmount(payload, 'PreSaving') ?? new Exact(0),
    gprsDtu: optionalString(payload, 'NewGprsDTU', 50) ?? newMeterNo,
    dtuMeterType: optionalString(payload, 'NewDTUMeterType', 50) ?? METER_DEFAULTS.dtuMeterType,
    gprsAddr: optionalString(payload, 'NewGprsAddr', 50) ?? METER_DEFAULTS.gprsAddr,
    meterAddr: optionalString(payload, 'NewMeterAddr', 50) ?? METER_DEFAULTS.meterAddr,
    operatorName: readOperatorName(payload),
    areaName: optionalString(payload, 'AreaName', 20) ?? METER_DEFAULTS.areaName,
  };
}

/** As for MeterAdd's PreSaving: no balance where the CIS bills (DECISIONS §5.6). */
function assertTransferAllowed(context: OperationContext, preSaving: Exact): void {
  if (preSaving.isZero() || context.tenant.billingMode !== 'system') return;
  throw new PlatformError(
    ReturnCode.MissingOrInvalidField,
    '字段不符合规范：系统端计费模式下表具不计费，PreSaving 必须为 0',
  );
}

/** The moved balance reaches the new meter as a recharge command (DECISIONS §5.2). */
function assertRemoteForTransfer(model: MeterModelEntity, preSaving: Exact): void {
  if (preSaving.isZero() || model.remoteControllable) return;
  throw new PlatformError(ReturnCode.NotRemoteMeter, `非远传表，无法进行远程操作：${model.code}`);
}

function insertNewMeter(
  context: OperationContext,
  oldMeter: MeterEntity,
  request: MeterChangeRequest,
): Promise<MeterEntity> {
  return openMeter(
    context,
    {
      customerId: oldMeter.customerId,
      meterId: request.newMeterId,
      meterNo: request.newMeterNo,
      modelCode: request.modelCode,
      protocolCode: request.protocolCode,
      gprsDtu: request.gprsDtu,
      dtuMeterType: request.dtuMeterType,
      gprsAddr: request.gprsAddr,
      meterAddr: request.meterAddr,
      operatorName: request.operatorName,
      areaName: request.areaName,
      initialReading: request.initialReading.toFixed(4),
      priceSchemeId: oldMeter.priceSchemeId,
      openedAt: request.changedAt,
    },
    () => newMeterExists(request),
  );
}

function newMeterExists(request: MeterChangeRequest): PlatformError {
  return new PlatformError(
    ReturnCode.NewMeterExists,
    `数据库中已经存在该新气表号，换表失败（NewMeterID ${request.newMeterId}，NewMeterNo ${request.newMeterNo}）`,
  );
}

async function closeOldMeter(
  context: OperationContext,
  oldMeter: MeterEntity,
  newMeter: MeterEntity,
  request: MeterChangeRequest,
): Promise<void> {
  const { store } = context;
  await store.meters.setState(oldMeter, MeterStates.Closed, {
    closedAt: request.changedAt,
    endReading: request.oldEndReading.toFixed(4),
    replacedBy: newMeter.id,
  });
  await cancelQueuedCommands(context, oldMeter, 'MeterChange');

  const oldModel = await store.catalogue.findModel(oldMeter.modelCode);
  if (!oldModel?.remoteControllable) return;
  await store.commands.enqueue({
    tenantId: context.tenant.id,
    meterId: oldMeter.id,
    kind: 'close_account',
    payload: { meterNo: oldMeter.meterNo },
    correlationId: context.requestId,
  });
}

async function openNewMeter(context: OperationContext, newMeter: MeterEntity, model: MeterModelEntity): Promise<void> {
  if (!model.remoteControllable) return;

  const price = await context.store.prices.findById(newMeter.priceSchemeId);
  if (!price) throw new Error(`price scheme ${newMeter.priceSchemeId} of meter ${newMeter.id} is missing`);
  await context.store.commands.enqueue({
    tenantId: context.tenant.id,
    meterId: newMeter.id,
    kind: 'open_account',
    payload: openAccountPayload(context, newMeter, price),
    correlationId: context.requestId,
  });
}

async function transferBalance(
  context: OperationContext,
  oldMeter: MeterEntity,
  newMeter: MeterEntity,
  request: MeterChangeRequest,
): Promise<void> {
  const command = await context.store.commands.enqueue({
    tenantId: context.tenant.id,
    meterId: newMeter.id,
    kind: 'recharge',
    payload: { amount: request.preSaving.toFixed(4), tradeNo: null, reason: 'transfer' },
    correlationId: context.requestId,
  });

  const entry = { tradeNo: null, operatorName: request.operatorName, occurredAt: request.changedAt };
  await postToLedger(context, 'PreSaving', [
    { ...entry, meter: oldMeter, kind: 'transfer_out', amount: request.preSaving.negated(), commandId: null },
    { ...entry, meter: newMeter, kind: 'transfer_in', amount: request.preSaving, commandId: command.id },
  ]);
}
