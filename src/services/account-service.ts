import type { Exact } from '../domain/decimal';
import { PlatformError } from '../domain/errors';
import { optionalAmount, optionalDate, optionalString, requiredAmount, requiredString } from '../domain/fields';
import { MeterStates } from '../domain/model';
import type { PayloadObject } from '../domain/payload';
import { ReturnCode } from '../domain/return-codes';
import type { CustomerEntity, MeterEntity, MeterModelEntity } from '../persistence/entities';
import type { CustomerDetails } from '../persistence/repositories/customer-repository';
import { isUniqueViolation } from '../persistence/repositories/postgres-errors';
import { postToLedger } from './ledger-posting';
import { assertOperationAllowed, cancelQueuedCommands, lockUserMeter, openMeter } from './meter-access';
import type { OperationContext } from './operation';
import { priceCommandPayload, readPriceScheme, storePriceScheme } from './price-scheme-input';

/**
 * The account lifecycle of spec §5.3.1 to §5.3.5: open (MeterAdd), modify, suspend, resume and
 * close (MeterDelete), with the state rules of DECISIONS §5.1.
 */

/** spec §5.3.1: defaults of the optional meter fields. */
export const METER_DEFAULTS = {
  dtuMeterType: 'ICJEW',
  gprsAddr: '23',
  meterAddr: '23',
  operatorName: 'admin',
  areaName: '默认区域',
};

export async function meterAdd(payload: PayloadObject, context: OperationContext): Promise<void> {
  const request = readMeterAdd(payload, context);
  const model = await checkCatalogue(context, request);
  const preSaving = request.preSaving;
  assertPreSavingAllowed(context, model, preSaving);

  const price = await storePriceScheme(context, readPriceScheme(payload, context, { monthCountRequired: true }));
  const customer = await openCustomer(context, request.userId, request.customer);
  const meter = await insertMeter(context, customer, request, price.id);

  if (!model.remoteControllable) return;
  await context.store.commands.enqueue({
    tenantId: context.tenant.id,
    meterId: meter.id,
    kind: 'open_account',
    payload: openAccountPayload(context, meter, price),
    correlationId: context.requestId,
  });
  if (preSaving.gt(0)) await creditOpeningBalance(context, meter, preSaving, request.operatorName);
}

type MeterAddRequest = ReturnType<typeof readMeterAdd>;

function readMeterAdd(payload: PayloadObject, context: OperationContext) {
  const zone = context.tenant.timeZone;
  const meterNo = requiredString(payload, 'MeterNo', 50);
  const userId = requiredString(payload, 'UserID', 50);
  return {
    userId,
    customer: readCustomerDetails(payload, zone, userId),
    preSaving: requiredAmount(payload, 'PreSaving'),
    meterId: requiredString(payload, 'MeterID', 50),
    meterNo,
    modelCode: requiredString(payload, 'MeterParamModel', 50),
    protocolCode: requiredString(payload, 'MeterProtocol', 50),
    initialReading: optionalAmount(payload, 'MeterReading')?.toFixed(4) ?? '0.0000',
    gprsDtu: optionalString(payload, 'GprsDTU', 50) ?? meterNo,
    dtuMeterType: optionalString(payload, 'DTUMeterType', 50) ?? METER_DEFAULTS.dtuMeterType,
    gprsAddr: optionalString(payload, 'GprsAddr', 50) ?? METER_DEFAULTS.gprsAddr,
    meterAddr: optionalString(payload, 'MeterAddr', 50) ?? METER_DEFAULTS.meterAddr,
    operatorName: optionalString(payload, 'OperatorName', 20) ?? METER_DEFAULTS.operatorName,
    areaName: optionalString(payload, 'AreaName', 20) ?? METER_DEFAULTS.areaName,
  };
}

function readCustomerDetails(payload: PayloadObject, zone: string, userId: string): CustomerDetails {
  return {
    userName: optionalString(payload, 'UserName', 50) ?? userId,
    userType: optionalString(payload, 'UserType', 20) ?? null,
    phone: optionalString(payload, 'Phone', 20) ?? null,
    fullAddress: optionalString(payload, 'FullAddrDetail', 200) ?? null,
    room: optionalString(payload, 'AddrDetail', 20) ?? null,
    buildingName: optionalString(payload, 'BuildingName', 100) ?? null,
    fireDate: optionalDate(payload, 'FireDate', zone) ?? null,
  };
}

/** DECISIONS §5.2: model and protocol must be in the catalogue; so must the DTU type. */
export async function checkCatalogue(
  context: OperationContext,
  request: Pick<MeterAddRequest, 'modelCode' | 'protocolCode' | 'dtuMeterType'>,
): Promise<MeterModelEntity> {
  const { catalogue } = context.store;
  const model = await catalogue.findModel(request.modelCode);
  if (!model) {
    throw new PlatformError(ReturnCode.UnknownModel, `找不到该气表型号：${request.modelCode}`);
  }
  if (!(await catalogue.protocolExists(request.protocolCode))) {
    throw new PlatformError(ReturnCode.UnknownProtocol, `找不到该气表通信协议：${request.protocolCode}`);
  }
  if (!(await catalogue.dtuTypeExists(request.dtuMeterType))) {
    throw new PlatformError(
      ReturnCode.InvalidMeter,
      `传入参数中气表数据不符合规范：找不到采集仪通信协议 ${request.dtuMeterType}`,
    );
  }
  return model;
}

/**
 * An opening balance is money on the meter: refused where the CIS bills (DECISIONS §5.6) and
 * where the model cannot be reached remotely (DECISIONS §5.2).
 */
function assertPreSavingAllowed(context: OperationContext, model: MeterModelEntity, preSaving: Exact): void {
  if (preSaving.isZero()) return;
  if (context.tenant.billingMode === 'system') {
    throw new PlatformError(
      ReturnCode.MissingOrInvalidField,
      '字段不符合规范：系统端计费模式下表具不计费，PreSaving 必须为 0',
    );
  }
  if (!model.remoteControllable) {
    throw new PlatformError(ReturnCode.NotRemoteMeter, `非远传表，无法进行远程操作：${model.code}`);
  }
}

/**
 * A UserID may be opened again only once all its meters are closed (the household came back);
 * a UserID with a meter in service is a duplicate account, 80002009.
 */
async function openCustomer(
  context: OperationContext,
  userId: string,
  details: CustomerDetails,
): Promise<CustomerEntity> {
  const { store, tenant } = context;
  const existing = await store.customers.findByUserId(tenant.id, userId);
  if (!existing) return insertCustomer(context, userId, details);

  if (await store.meters.customerHasOpenMeter(existing.id)) throw duplicateAccount(`用户号 ${userId}`);
  await store.customers.update(existing, details);
  return existing;
}

async function insertCustomer(
  context: OperationContext,
  userId: string,
  details: CustomerDetails,
): Promise<CustomerEntity> {
  try {
    return await context.store.customers.insert(context.tenant.id, userId, details);
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicateAccount(`用户号 ${userId}`);
    throw error;
  }
}

function insertMeter(
  context: OperationContext,
  customer: CustomerEntity,
  request: MeterAddRequest,
  priceSchemeId: string,
): Promise<MeterEntity> {
  return openMeter(
    context,
    {
      customerId: customer.id,
      meterId: request.meterId,
      meterNo: request.meterNo,
      modelCode: request.modelCode,
      protocolCode: request.protocolCode,
      gprsDtu: request.gprsDtu,
      dtuMeterType: request.dtuMeterType,
      gprsAddr: request.gprsAddr,
      meterAddr: request.meterAddr,
      operatorName: request.operatorName,
      areaName: request.areaName,
      initialReading: request.initialReading,
      priceSchemeId,
      openedAt: context.receivedAt,
    },
    () => duplicateAccount(`表具 ${request.meterId} / 表钢号 ${request.meterNo}`),
  );
}

export function openAccountPayload(
  context: OperationContext,
  meter: MeterEntity,
  price: Parameters<typeof priceCommandPayload>[0],
): Record<string, unknown> {
  return {
    meterNo: meter.meterNo,
    billingMode: context.tenant.billingMode,
    initialReading: meter.initialReading,
    gprsDtu: meter.gprsDtu,
    dtuMeterType: meter.dtuMeterType,
    gprsAddr: meter.gprsAddr,
    meterAddr: meter.meterAddr,
    price: context.tenant.billingMode === 'meter' ? priceCommandPayload(price) : null,
  };
}

/** DECISIONS §5.4: MeterAdd's PreSaving > 0 is an initial recharge, sent after the opening. */
async function creditOpeningBalance(
  context: OperationContext,
  meter: MeterEntity,
  amount: Exact,
  operatorName: string,
): Promise<void> {
  const { store, tenant } = context;
  const command = await store.commands.enqueue({
    tenantId: tenant.id,
    meterId: meter.id,
    kind: 'recharge',
    payload: { amount: amount.toFixed(4), tradeNo: null, reason: 'opening' },
    correlationId: context.requestId,
  });
  await postToLedger(context, 'PreSaving', [
    {
      meter,
      kind: 'opening',
      tradeNo: null,
      amount,
      operatorName,
      occurredAt: context.receivedAt,
      commandId: command.id,
    },
  ]);
}

function duplicateAccount(what: string): PlatformError {
  return new PlatformError(
    ReturnCode.AccountExists,
    `数据库中已经存在该用户号或气表号，开户失败（${what}）`,
  );
}

/** spec §5.3.2: user details change; UserID and MeterID cannot. No command: the meter keeps none. */
export async function meterModify(payload: PayloadObject, context: OperationContext): Promise<void> {
  const userId = requiredString(payload, 'UserID', 50);
  const meterId = requiredString(payload, 'MeterID', 50);
  const changes = readCustomerChanges(payload, context.tenant.timeZone);

  const customer = await context.store.customers.findByUserId(context.tenant.id, userId);
  if (!customer) {
    throw new PlatformError(
      ReturnCode.UserNotFound,
      `数据库中不存在该用户号或气表号，用户修改失败（UserID ${userId}）`,
    );
  }
  const meter = await lockUserMeter(context, userId, meterId);
  assertOperationAllowed(meter, 'MeterModify');

  await context.store.customers.update(customer, changes);
}

function readCustomerChanges(payload: PayloadObject, zone: string): Partial<CustomerDetails> {
  return {
    userName: optionalString(payload, 'UserName', 50),
    userType: optionalString(payload, 'UserType', 20),
    phone: optionalString(payload, 'Phone', 20),
    fullAddress: optionalString(payload, 'FullAddrDetail', 200),
    room: optionalString(payload, 'AddrDetail', 20),
    buildingName: optionalString(payload, 'BuildingName', 100),
    fireDate: optionalDate(payload, 'FireDate', zone),
  };
}

/** spec §5.3.4: 0 or 1 → -1. Suspending a suspended meter is 80002023 (DECISIONS §5.1). */
export async function meterSuspend(payload: PayloadObject, context: OperationContext): Promise<void> {
  const meter = await lockPair(payload, context);
  assertOperationAllowed(meter, 'MeterSuspend');

  await context.store.meters.setState(meter, MeterStates.Suspended);
}

/**
 * spec §5.3.5: -1 → back in service: 1 if the meter has ever reported, else 0 (opened). A meter
 * that is not suspended cannot be resumed: 80002026.
 */
export async function meterResume(payload: PayloadObject, context: OperationContext): Promise<void> {
  const meter = await lockPair(payload, context);
  assertOperationAllowed(meter, 'MeterResume');
  if (meter.state !== MeterStates.Suspended) {
    throw new PlatformError(ReturnCode.ResumeFailed, `表具启用失败：表具 ${meter.meterId} 未停用`);
  }

  const hasReported = await context.store.manager.query(
    'SELECT 1 FROM meter_snapshot WHERE meter_id = $1',
    [meter.id],
  );
  await context.store.meters.setState(meter, hasReported.length > 0 ? MeterStates.InUse : MeterStates.Opened);
}

/**
 * spec §5.3.3: any state but closed → -2. What was still queued for the meter is cancelled, and
 * the meter is told to close the account, behind only what is already in flight.
 */
export async function meterDelete(payload: PayloadObject, context: OperationContext): Promise<void> {
  const meter = await lockPair(payload, context);
  assertOperationAllowed(meter, 'MeterDelete');

  await context.store.meters.setState(meter, MeterStates.Closed, { closedAt: context.receivedAt });
  await cancelQueuedCommands(context, meter, 'MeterDelete');
  const model = await context.store.catalogue.findModel(meter.modelCode);
  if (!model?.remoteControllable) return;
  await context.store.commands.enqueue({
    tenantId: context.tenant.id,
    meterId: meter.id,
    kind: 'close_account',
    payload: { meterNo: meter.meterNo },
    correlationId: context.requestId,
  });
}

async function lockPair(payload: PayloadObject, context: OperationContext): Promise<MeterEntity> {
  const userId = requiredString(payload, 'UserID', 50);
  const meterId = requiredString(payload, 'MeterID', 50);
  return lockUserMeter(context, userId, meterId);
}
