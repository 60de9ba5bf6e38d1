/**
 * The story every interop client tells, one account from opening to closing through all 13
 * operations, so that each call is one a gas company really makes and each must succeed
 * (ReturnCode 0): open, modify, suspend, resume, recharge and cancel it, return money, change the
 * price for the meter and in a batch, close the valve, read the meter, replace it, close the
 * account. Each client and mode has its own account (`lane`), so stories never meet.
 */
import type { OperationName } from '../../src/domain/operations';
import type { Mode } from './interop-matrix';

/** The order the story calls the operations in (MeterChange closes the first meter; MeterDelete ends). */
export const SCENARIO_ORDER: readonly OperationName[] = [
  'MeterAdd',
  'MeterModify',
  'MeterSuspend',
  'MeterResume',
  'Recharge',
  'CancelRecharge',
  'RemainOption',
  'ChangePrice',
  'BatchChangePrice',
  'ControlValve',
  'ReadCurrentData',
  'MeterChange',
  'MeterDelete',
];

export const SUCCESS_MESSAGE = '接口功能执行成功';

const DATE_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

export class AccountScenario {
  readonly userId: string;
  readonly firstMeterId: string;
  readonly secondMeterId: string;
  private currentMeterId: string;
  private readonly tag: string;

  /** `lane` 1-9 tells the accounts of one test file apart; `dataFrom` is the tenant's name. */
  constructor(
    lane: number,
    mode: Mode,
    private readonly dataFrom: string,
  ) {
    this.tag = `${lane}${mode === 'plaintext' ? 1 : 2}`;
    this.userId = `KYNYN${this.tag}0001`;
    this.firstMeterId = `0${this.tag}000000001`;
    this.secondMeterId = `0${this.tag}000000002`;
    this.currentMeterId = this.firstMeterId;
  }

  /** The request of `operation` at this point of the story, as single-line JSON. */
  payloadFor(operation: OperationName): string {
    return JSON.stringify({ ...this.fields(operation), DataFrom: this.dataFrom });
  }

  /**
   * What is wrong with the answer to a call that should have succeeded; nothing when it did.
   * Also moves the story on: after a MeterChange that succeeded, the account's meter is the new one.
   */
  check(operation: OperationName, answer: Record<string, unknown>): string[] {
    const problems = successProblems(operation, answer, { UserID: this.userId, MeterID: this.currentMeterId });
    if (operation === 'MeterChange' && answer.ReturnCode === 0) this.currentMeterId = this.secondMeterId;
    return problems;
  }

  private fields(operation: OperationName): Record<string, unknown> {
    const account = { UserID: this.userId, MeterID: this.currentMeterId };
    // Recharge and its cancellation share a TradeNo.
    const tradeNo = `CNMCSP${this.tag}R20191002`;
    switch (operation) {
      case 'MeterAdd':
        return {
          ...account,
          UserName: '互通测试用户',
          UserType: '1',
          Phone: '13566956201',
          // Characters that XML and JSON both escape, so that every client's escaping is exercised.
          FullAddrDetail: '浙江省温州市苍南县灵溪镇 "南门" 3<5 & 7>2',
          AddrDetail: '503室',
          BuildingName: '3单元 3栋',
          FireDate: '2019-09-02 00:00:00',
          PreSaving: '1000',
          MeterNo: this.firstMeterId,
          MeterParamModel: 'CNMCPUJE',
          MeterProtocol: 'CNModbusV61',
          MeterReading: 0,
          ...TIERED_PRICE,
        };
      case 'MeterModify':
        return { ...account, UserName: '互通测试用户（更名）', Phone: '13900000000', AddrDetail: '504室' };
      case 'MeterSuspend':
      case 'MeterResume':
      case 'MeterDelete':
        return account;
      case 'Recharge':
        return { ...account, TradeNo: tradeNo, RechargeTime: '2019-10-02 12:34:22', RechargeAmt: '500.5000' };
      case 'CancelRecharge':
        return { ...account, TradeNo: tradeNo, CancelTime: '2019-10-02 12:44:22', CancelAmt: '500.5000' };
      case 'RemainOption':
        return {
          ...account,
          TradeNo: `CNMCSP${this.tag}O20191002`,
          CMDOption: 1000,
          OptionTime: '2019-10-02 13:00:00',
          OptionAmt: '20.5',
        };
      case 'ChangePrice':
        return {
          ...account,
          ChangeTime: '2019-10-03 00:00:00',
          PriceID: '6001',
          Version: '1',
          IniDate: '2019-10-01 00:00:00',
          PriceMode: '100',
          MonthCount: '1',
          Price1: 3.2,
        };
      case 'BatchChangePrice':
        return {
          Meters: [account],
          ChangeTime: '2019-10-04 00:00:00',
          ...TIERED_PRICE,
          PriceID: '6002',
          Version: '1',
        };
      case 'ControlValve':
        return { ...account, Control: 2010 };
      case 'ReadCurrentData':
        return { Meters: [account] };
      case 'MeterChange':
        return {
          UserID: this.userId,
          OldMeterID: this.currentMeterId,
          OldENDREADING: 12.5,
          NewMeterID: this.secondMeterId,
          NewMeterNo: this.secondMeterId,
          NewMeterParamModel: 'CNMCPUJE',
          NewMeterProtocol: 'CNModbusV61',
          NewMeterReading: 0,
          ChangeTime: '2019-10-05 09:30:00',
          PreSaving: 0,
        };
    }
  }
}

/**
 * What is wrong with an answer that should be a success: ReturnCode 0 with the spec's message;
 * ReadCurrentData also one reading of each field, for `account` when given.
 */
export function successProblems(
  operation: OperationName,
  answer: Record<string, unknown>,
  account?: { UserID: string; MeterID: string },
): string[] {
  if (answer.ReturnCode !== 0) {
    return [`ReturnCode ${String(answer.ReturnCode)}: ${String(answer.ReturnMessage)}`];
  }
  if (answer.ReturnMessage !== SUCCESS_MESSAGE) return [`ReturnMessage "${String(answer.ReturnMessage)}"`];
  return operation === 'ReadCurrentData' ? readingProblems(answer, account) : [];
}

function readingProblems(
  answer: Record<string, unknown>,
  account?: { UserID: string; MeterID: string },
): string[] {
  const readings = answer.ReadingData;
  if (!Array.isArray(readings) || readings.length !== 1) return ['ReadingData is not a list of one reading'];

  const reading = readings[0] as Record<string, unknown>;
  const problems: string[] = [];
  if (account !== undefined && (reading.UserID !== account.UserID || reading.MeterID !== account.MeterID)) {
    problems.push(`ReadingData names ${String(reading.UserID)}/${String(reading.MeterID)}`);
  }
  if (typeof reading.ReadTime !== 'string' || !DATE_TIME.test(reading.ReadTime)) {
    problems.push(`ReadTime ${String(reading.ReadTime)}`);
  }
  if (typeof reading.Reading !== 'number') problems.push(`Reading ${String(reading.Reading)} is not a number`);
  if (typeof reading.ValveState !== 'string') problems.push('no ValveState');
  return problems;
}

/** One tariff for every account of a tenant: a (PriceID, Version) never changes (DECISIONS §5.3). */
const TIERED_PRICE = {
  PriceID: '5021',
  Version: '309',
  IniDate: '2019-09-02 00:00:00',
  PriceMode: '101',
  MonthCount: '12',
  Price1: 1.2,
  Price2: 1.8,
  Price3: 3.0,
  Level1: 2000,
  Level2: 5000,
};
