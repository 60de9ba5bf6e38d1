import type { OperationName } from '../../src/domain/operations';
import { OPERATIONS } from '../../src/domain/operations';
import { restCall, soapCall } from '../support/cis-client';
import type { TestPlatform } from '../support/test-platform';

/**
 * Calling any of the 13 operations over either transport, the way a CIS does, and reading the
 * answer back: the code, the message, the parsed payload and its exact text (money is checked
 * on the text, where `3.2000` must keep its four decimals).
 */
export type Transport = 'rest' | 'soap';

export interface Answer {
  code: number;
  message: string;
  json: Record<string, unknown>;
  /** The response payload exactly as sent: REST body, or SOAP EncryptData. */
  text: string;
}

export async function callOperation(
  platform: TestPlatform,
  transport: Transport,
  operation: OperationName,
  payload: string,
): Promise<Answer> {
  if (transport === 'rest') {
    const answer = await restCall(platform.url, `/rest/Standard${restPath(operation)}`, payload);
    expect(answer.status).toBe(200);
    return answerOf(answer.text);
  }

  const answer = await soapCall(platform.url, operation, payload);
  expect(answer.status).toBe(200);
  const parsed = answerOf(answer.encryptData);
  expect(parsed.code).toBe(answer.result);
  return parsed;
}

function restPath(operation: OperationName): string {
  return OPERATIONS.find((candidate) => candidate.name === operation)?.restPath as string;
}

function answerOf(text: string): Answer {
  const json = JSON.parse(text) as Record<string, unknown>;
  return { code: json.ReturnCode as number, message: json.ReturnMessage as string, json, text };
}

/**
 * A MeterAdd payload for one more account, with the spec example's price. `meterReading` is
 * raw JSON text (a number token such as `999999999999.9999` would not survive a JS number).
 */
export function meterAddPayload(fields: {
  userId: string;
  meterId: string;
  dataFrom: string;
  preSaving?: string;
  meterReading?: string;
  model?: string;
}): string {
  return JSON.stringify({
    UserID: fields.userId,
    MeterID: fields.meterId,
    MeterNo: fields.meterId,
    PreSaving: fields.preSaving ?? '0',
    MeterParamModel: fields.model ?? 'CNMCPUJE',
    MeterProtocol: 'CNModbusV61',
    PriceID: '5021',
    Version: '309',
    IniDate: '2019-09-02 00:00:00',
    PriceMode: '101',
    MonthCount: '12',
    Price1: '1.2',
    Price2: '1.8',
    Price3: '3.0',
    Level1: 2000,
    Level2: '5000',
    DataFrom: fields.dataFrom,
  }).replace(/}$/, `,"MeterReading":${fields.meterReading ?? '0'}}`);
}

/**
 * The money operations of one gas company over REST, for meters opened with UserID `U` + MeterID
 * (the convention of these tests), all dated TRADE_TIME. The platform and the company are read at
 * each call, so that a describe block can set them up in beforeAll.
 */
export const TRADE_TIME = '2019-10-02 12:34:22';

export function moneyCalls(platform: () => TestPlatform, dataFrom: () => string) {
  const call = (operation: OperationName, fields: Record<string, unknown>) =>
    callOperation(platform(), 'rest', operation, JSON.stringify({ DataFrom: dataFrom(), ...fields }));
  return {
    call,
    recharge: (meterId: string, tradeNo: string, amount: unknown, userId = `U${meterId}`) =>
      call('Recharge', { UserID: userId, MeterID: meterId, TradeNo: tradeNo, RechargeTime: TRADE_TIME, RechargeAmt: amount }),
    cancel: (meterId: string, tradeNo: string, amount: unknown) =>
      call('CancelRecharge', { UserID: `U${meterId}`, MeterID: meterId, TradeNo: tradeNo, CancelTime: TRADE_TIME, CancelAmt: amount }),
    remain: (meterId: string, tradeNo: string, option: unknown, amount: unknown) =>
      call('RemainOption', {
        UserID: `U${meterId}`,
        MeterID: meterId,
        TradeNo: tradeNo,
        CMDOption: option,
        OptionTime: TRADE_TIME,
        OptionAmt: amount,
      }),
  };
}
