import type { OperationName } from '../../src/domain/operations';
import { defaultMessage } from '../../src/domain/return-codes';
import { SPEC_EXAMPLES } from '../fixtures/spec-examples';

/**
 * All 13 operations in the order a CIS would run them on one account: the spec's order with
 * MeterDelete moved last, so that it closes whichever meter the account has by then (the new one
 * once MeterChange is built). clients/csharp/SampleClient.cs runs the same tour.
 */
export const TOUR: readonly OperationName[] = [
  'MeterAdd',
  'MeterModify',
  'MeterSuspend',
  'MeterResume',
  'MeterChange',
  'ReadCurrentData',
  'Recharge',
  'CancelRecharge',
  'ChangePrice',
  'BatchChangePrice',
  'ControlValve',
  'RemainOption',
  'MeterDelete',
];

/** The operations that are built already; each answers exactly 0 on the tour. */
export const ACCOUNT_OPERATIONS: ReadonlySet<OperationName> = new Set([
  'MeterAdd',
  'MeterModify',
  'MeterSuspend',
  'MeterResume',
  'MeterDelete',
]);

export const FIRST_METER = '012345678912';
/** SPEC_EXAMPLES.MeterChange's NewMeterID. */
export const NEW_METER = '012345678919';

/** The spec's example of the operation for this tenant and this meter of the account. */
export function tourPayload(operation: OperationName, dataFrom: string, meterId: string): string {
  const example = SPEC_EXAMPLES[operation].replace(/苍南仪表集团/g, dataFrom);
  return operation === 'MeterChange' ? example : example.replace(new RegExp(FIRST_METER, 'g'), meterId);
}

/** The meter the account has after `operation` answered `code`. */
export function meterAfter(operation: OperationName, code: number, meterId: string): string {
  return operation === 'MeterChange' && code === 0 ? NEW_METER : meterId;
}

/** A ReturnCode of spec §7 or DECISIONS §3.8 (or 80009001, not built yet). */
export function isSpecCode(code: number): boolean {
  return defaultMessage(code) !== '未知错误';
}
