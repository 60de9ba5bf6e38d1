/**
 * The 13 operations of spec §5.3, in the spec's order (DECISIONS §2.1), with their REST paths.
 * REST path matching ignores case (DECISIONS §2.2).
 */
export const OPERATIONS = [
  { name: 'MeterAdd', restPath: '/meter/meteradd' },
  { name: 'MeterModify', restPath: '/meter/metermodify' },
  { name: 'MeterDelete', restPath: '/meter/meterDelete' },
  { name: 'MeterSuspend', restPath: '/meter/meterSuspend' },
  { name: 'MeterResume', restPath: '/meter/meterResume' },
  { name: 'MeterChange', restPath: '/meter/meterChange' },
  { name: 'ReadCurrentData', restPath: '/reading/ReadCurrentData' },
  { name: 'Recharge', restPath: '/fee/recharge' },
  { name: 'CancelRecharge', restPath: '/fee/cancelRecharge' },
  { name: 'ChangePrice', restPath: '/price/changePrice' },
  { name: 'BatchChangePrice', restPath: '/price/batchChangePrice' },
  { name: 'ControlValve', restPath: '/valve/controlValve' },
  { name: 'RemainOption', restPath: '/fee/remainOption' },
] as const;

export type OperationName = (typeof OPERATIONS)[number]['name'];

export const OPERATION_NAMES: readonly OperationName[] = OPERATIONS.map((operation) => operation.name);

export function isOperationName(value: string): value is OperationName {
  return (OPERATION_NAMES as readonly string[]).includes(value);
}

const byRestPath = new Map<string, OperationName>(
  OPERATIONS.map((operation) => [operation.restPath.toLowerCase(), operation.name]),
);

export function operationForRestPath(path: string): OperationName | undefined {
  return byRestPath.get(path.replace(/\/+$/, '').toLowerCase());
}
