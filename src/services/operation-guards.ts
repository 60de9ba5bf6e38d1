import { PlatformError, isPlatformError } from '../domain/errors';
import { optionalString } from '../domain/fields';
import { MeterStates, type MeterState } from '../domain/model';
import type { OperationName } from '../domain/operations';
import type { PayloadObject } from '../domain/payload';
import { ReturnCode } from '../domain/return-codes';
import type { MeterEntity, MeterModelEntity } from '../persistence/entities';
import { assertOperationAllowed, lockUserMeter } from './meter-access';
import type { OperationContext } from './operation';

/**
 * The checks that money, price, valve and meter-change operations share, each with its spec code:
 * billing mode (DECISIONS §5.6), meter state (§5.1), remote reach (§5.2).
 */

/** spec §5.3.1: the operator a CIS that names none stands for. */
export const DEFAULT_OPERATOR = 'admin';

/**
 * DECISIONS §5.6: where the CIS bills (系统端计费) the platform keeps no money and no price for
 * the meter, so the money and price operations are refused with 80002003 and say why.
 */
export function assertMeterSideBilling(context: OperationContext, operation: OperationName): void {
  if (context.tenant.billingMode !== 'system') return;
  throw new PlatformError(
    ReturnCode.MissingOrInvalidField,
    `字段不符合规范：${context.tenant.name} 为系统端计费模式，由 CIS 计费，平台不受理 ${operation}`,
  );
}

/** DECISIONS §5.2: a remote operation on a model the platform cannot reach is 80002024. */
export async function assertRemoteControllable(
  context: OperationContext,
  meter: MeterEntity,
): Promise<MeterModelEntity> {
  const model = await context.store.catalogue.findModel(meter.modelCode);
  if (!model?.remoteControllable) {
    throw new PlatformError(
      ReturnCode.NotRemoteMeter,
      `非远传表，无法进行远程操作（表具 ${meter.meterId}，型号 ${meter.modelCode}）`,
    );
  }
  return model;
}

/**
 * The user's meter, locked for the transaction, after the checks every single-meter operation
 * makes: the pair matches (80002013), the meter's state allows the operation (80002023) and,
 * for what must reach the meter, its model is remote-controllable (80002024).
 */
export async function lockMeterFor(
  context: OperationContext,
  pair: { userId: string; meterId: string },
  operation: OperationName,
  options: { remote: boolean },
): Promise<MeterEntity> {
  const meter = await lockUserMeter(context, pair.userId, pair.meterId);
  assertOperationAllowed(meter, operation);
  if (options.remote) await assertRemoteControllable(context, meter);
  return meter;
}

/**
 * The meter states in which an operation is allowed, taken from the one rule of DECISIONS §5.1
 * (assertOperationAllowed) so that a batch checked in SQL obeys exactly what a single call does.
 */
export function statesAllowing(operation: OperationName): MeterState[] {
  return Object.values(MeterStates).filter((state) => {
    try {
      assertOperationAllowed({ state, meterId: '' } as MeterEntity, operation);
      return true;
    } catch (error) {
      if (isPlatformError(error)) return false;
      throw error;
    }
  });
}

/** `OperatorName` (VARCHAR(20)) where an operation accepts one; the spec's default otherwise. */
export function readOperatorName(payload: PayloadObject): string {
  return optionalString(payload, 'OperatorName', 20) ?? DEFAULT_OPERATOR;
}
