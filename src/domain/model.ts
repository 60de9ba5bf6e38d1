/**
 * The words of the field, in one sentence each (spec terms in brackets).
 *
 * - Tenant (燃气公司, 数据归属 `DataFrom`): one gas company; every stored row belongs to one.
 * - CIS (客户服务系统): the tenant's customer service system, which calls the platform.
 * - User (用户, `UserID`): a household or business account in the CIS, unique within a tenant.
 * - Meter (远传表, `MeterID` / `MeterNo` 表钢号): a remote gas meter installed for one user.
 * - Catalogue (表具参数模板 / 通信协议 / 采集仪): the meter models, protocols and DTU types the
 *   platform knows how to talk to.
 * - Price scheme (气价, `PriceID` + `Version`): a standard or tiered gas price, immutable once stored.
 * - Billing mode (计费模式): meter-side (表端计费, the meter bills) or system-side (系统端计费, the
 *   CIS bills).
 * - Ledger (账本): the append-only list of money movements per meter, keyed by `TradeNo` (流水号).
 * - Command (指令): something a meter must do (open, recharge, re-price, valve, close), queued
 *   until the meter wakes up and acknowledged by it.
 * - Reading / report (抄表数据): what a meter reports: index, valve, balance, alarms.
 * - Push (推送): the platform sending readings and alarms to the CIS (spec §6).
 */

export type BillingMode = 'meter' | 'system';

/** spec §8: 0 opened, 1 in use, -1 suspended, -2 closed (DECISIONS §5.1). */
export const MeterStates = { Opened: 0, InUse: 1, Suspended: -1, Closed: -2 } as const;
export type MeterState = (typeof MeterStates)[keyof typeof MeterStates];

/** spec §8 valve states. */
export const ValveStates = { Open: '01', Closed: '00', Moving: '10', Fault: '11' } as const;
export type ValveState = (typeof ValveStates)[keyof typeof ValveStates];

/** spec §8: 100 standard price, 101 tiered price. */
export type PriceMode = 100 | 101;

export interface Tenant {
  id: number;
  code: string;
  name: string;
  billingMode: BillingMode;
  plaintext: boolean;
  timeZone: string;
}
