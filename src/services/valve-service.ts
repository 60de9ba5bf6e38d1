import { PlatformError } from '../domain/errors';
import { requiredInteger, requiredString } from '../domain/fields';
import type { PayloadObject } from '../domain/payload';
import { ReturnCode } from '../domain/return-codes';
import type { OperationContext } from './operation';
import { lockMeterFor } from './operation-guards';

/**
 * spec §5.3.12: open or close a meter's valve. It works whoever bills (DECISIONS §5.6: the CIS
 * of a system-side tenant controls valves through the platform).
 *
 * Nothing is written on the meter row: `meter.valve_state` is the platform's best knowledge of the
 * valve, and the meter link sets it (10 while the command is in flight, 00 or 01 once the meter
 * acknowledges). Answering 0 here means the command is queued, not that the valve has moved.
 */

/** spec §5.3.12 Control: 2010 closes the valve, 1010 opens it. */
const VALVE_ACTIONS: Record<number, 'close' | 'open'> = { 2010: 'close', 1010: 'open' };

export async function controlValve(payload: PayloadObject, context: OperationContext): Promise<void> {
  const pair = {
    userId: requiredString(payload, 'UserID', 50),
    meterId: requiredString(payload, 'MeterID', 50),
  };
  const action = readValveAction(payload);
  const meter = await lockMeterFor(context, pair, 'ControlValve', { remote: true });

  await context.store.commands.enqueue({
    tenantId: context.tenant.id,
    meterId: meter.id,
    kind: 'valve',
    payload: { action },
    correlationId: context.requestId,
  });
}

function readValveAction(payload: PayloadObject): 'close' | 'open' {
  const control = requiredInteger(payload, 'Control');
  const action = VALVE_ACTIONS[control];
  if (action) return action;
  throw new PlatformError(
    ReturnCode.MissingOrInvalidField,
    `字段不符合规范：Control 只能是 2010（关阀）或 1010（开阀），收到 ${control}`,
  );
}
