/**
 * The JSON of one push (spec §6.1 实时数据上传, §6.2 警报信息上传), written from the fields the
 * outbox froze at enqueue time. Keys appear in the spec's order and spelling; the reserved (预留)
 * fields of a reading carry the balance figures. Readings, money and prices are JSON number tokens
 * with exactly four decimals (DECISIONS §4), which JSON.stringify cannot write, hence JsonNumber.
 */
import { JsonNumber, writeJson, type JsonOutput } from '../domain/json-output';
import type { ClaimedPush, PushKind } from '../persistence/repositories/push-outbox-repository';

const FIELD_ORDER: Record<PushKind, readonly string[]> = {
  reading: [
    'cmdCode',
    'DataFrom',
    'requestSerialNo',
    'userNo',
    'meterNo',
    'CreateDate',
    'Reading',
    'ValveState',
    'Temperature',
    'Pressure',
    'RemainMoney',
    'TotalBuyMoney',
    'TotalUsedGas',
    'TotalUsedMoney',
    'Price',
  ],
  alarm: ['cmdCode', 'DataFrom', 'requestSerialNo', 'userNo', 'meterNo', 'AlarmTime', 'AlarmType', 'AlarmMessage'],
};

const NUMERIC_FIELDS = new Set([
  'Reading',
  'Temperature',
  'Pressure',
  'RemainMoney',
  'TotalBuyMoney',
  'TotalUsedGas',
  'TotalUsedMoney',
  'Price',
]);

/** The SOAP operation the CIS publishes for each kind (wsdl/CIS_PushReceiver.wsdl). */
export const SOAP_OPERATIONS: Record<PushKind, string> = {
  reading: 'ReceiveRealTimeData',
  alarm: 'ReceiveAlarmData',
};

/** The plaintext payload of a push. A field unknown (null) is written as null, never left out. */
export function pushPayloadJson(push: Pick<ClaimedPush, 'kind' | 'fields' | 'requestSerialNo'>): string {
  const values: Record<string, string | null> = { ...push.fields, requestSerialNo: push.requestSerialNo };
  const payload: Record<string, JsonOutput> = {};

  for (const key of FIELD_ORDER[push.kind]) {
    const value = values[key] ?? null;
    payload[key] = value !== null && NUMERIC_FIELDS.has(key) ? new JsonNumber(value) : value;
  }

  return writeJson(payload);
}
