import { Exact } from '../domain/decimal';
import { bill, priceAt, START_OF_TIME, type PriceScheme, type TierPosition } from './billing';

/**
 * One simulated remote meter (远传表) with meter-side billing: it measures gas, bills it at its
 * price, keeps its balance, closes its valve when the money runs out and opens it again after a
 * credit, raises alarms, and applies each command sequence at most once.
 */

/** A command as the device API delivers it. */
export interface MeterCommand {
  commandId: string;
  sequence: string;
  kind: string;
  payload: Record<string, any>;
}

export interface CommandOutcome {
  result: 'applied' | 'duplicate' | 'rejected';
  message?: string;
}

/** Faults a test or a demo can inject into one meter. */
export interface MeterFaults {
  /** Takes commands but never answers them (the platform re-sends, then gives up). */
  neverAcknowledges?: boolean;
  /** Rejects commands of these kinds ('*': all). */
  rejects?: string[];
  /** The valve is stuck: valve commands fail and it reports 11 with a VALVE_FAULT alarm. */
  valveFault?: boolean;
  /**
   * The meter's clock is this far off (positive: ahead): its reports and alarms carry the wrong
   * time, and the platform refuses those more than 10 minutes ahead of its own clock.
   */
  clockOffsetMs?: number;
}

export interface Report {
  meterNo: string;
  readAt: string;
  reading: string;
  valveState: string;
  remainMoney: string;
  totalBuyMoney: string;
  totalUsedGas: string;
  totalUsedMoney: string;
  price: string | null;
  temperature: string;
  pressure: string;
  batteryPercent: number;
  alarms: Array<{ type: string; at: string; message?: string }>;
}

/** Below this balance (yuan) the meter raises LOW_BALANCE, once per descent. */
export const LOW_BALANCE_THRESHOLD = '10';
/** Below this charge (%) the meter raises LOW_BATTERY, once. */
export const LOW_BATTERY_PERCENT = 10;

export class VirtualMeter {
  reading: Exact;
  balance = new Exact(0);
  totalBuy = new Exact(0);
  totalUsedGas = new Exact(0);
  totalUsedMoney = new Exact(0);
  valve: '00' | '01' | '11' = '01';
  /** Why the valve is closed: the balance ran out (reopens on credit) or a CIS order (stays). */
  closedBy: 'balance' | 'command' | null = null;
  battery = 100;
  scheme: PriceScheme | null = null;
  billingMode: 'meter' | 'system' = 'meter';
  tierPosition: TierPosition = START_OF_TIME;
  schemeTakenAt: Date | null = null;
  /** Highest command sequence seen; a sequence at or below it is a repeat. */
  lastSequence = 0n;
  /** How many times each sequence was applied: the proof that none is applied twice. */
  readonly applied = new Map<string, number>();
  private alarms: Report['alarms'] = [];
  private lowBalanceRaised = false;
  private lowBatteryRaised = false;

  constructor(
    readonly meterNo: string,
    initialReading: string,
    readonly timeZone: string,
    public faults: MeterFaults = {},
  ) {
    this.reading = new Exact(initialReading);
  }

  /** Gas flows (only while the valve is open) and is billed at the meter's price. */
  consume(volume: string, at: Date, batteryDrain = 0): void {
    this.drainBattery(batteryDrain, at);
    if (this.valve !== '01' || new Exact(volume).lte(0)) return;

    this.reading = this.reading.add(volume);
    this.totalUsedGas = this.totalUsedGas.add(volume);
    if (!this.billing()) return;

    const result = bill(this.scheme as PriceScheme, this.tierPosition, volume, at, this.timeZone, this.schemeTakenAt ?? at);
    this.tierPosition = result.position;
    this.totalUsedMoney = this.totalUsedMoney.add(result.cost);
    this.balance = this.balance.sub(result.cost);
    this.checkBalance(at);
  }

  /** The report of this wake-up, with the alarms raised since the last one. */
  report(at: Date): Report {
    if (this.faults.valveFault && this.valve !== '11') {
      this.valve = '11';
      this.raise('VALVE_FAULT', at);
    }
    return {
      meterNo: this.meterNo,
      readAt: this.clockTime(at),
      reading: this.reading.toFixed(4),
      valveState: this.valve,
      remainMoney: this.balance.toFixed(4),
      totalBuyMoney: this.totalBuy.toFixed(4),
      totalUsedGas: this.totalUsedGas.toFixed(4),
      totalUsedMoney: this.totalUsedMoney.toFixed(4),
      price: this.scheme ? priceAt(this.scheme, this.currentCycleUsage()) : null,
      temperature: '21.5000',
      pressure: '2.1000',
      batteryPercent: Math.floor(this.battery),
      alarms: [...this.alarms],
    };
  }

  /** The platform stored the report: its alarms are delivered. */
  reportDelivered(): void {
    this.alarms = [];
  }

  /** Takes one command; undefined: the meter stays silent (fault). */
  receive(command: MeterCommand, at: Date): CommandOutcome | undefined {
    if (this.faults.neverAcknowledges) return undefined;
    const sequence = BigInt(command.sequence);
    if (sequence <= this.lastSequence) return { result: 'duplicate' };
    this.lastSequence = sequence;

    const refusal = this.refusal(command);
    if (refusal) return { result: 'rejected', message: refusal };
    this.apply(command, at);
    this.applied.set(command.sequence, (this.applied.get(command.sequence) ?? 0) + 1);
    return { result: 'applied' };
  }

  private refusal(command: MeterCommand): string | undefined {
    const rejects = this.faults.rejects ?? [];
    if (rejects.includes('*') || rejects.includes(command.kind)) return `simulated refusal of ${command.kind}`;
    if (command.kind === 'valve' && this.faults.valveFault) return '阀门故障，无法动作';
    return undefined;
  }

  private apply(command: MeterCommand, at: Date): void {
    const payload = command.payload;
    switch (command.kind) {
      case 'open_account':
        this.billingMode = payload.billingMode === 'system' ? 'system' : 'meter';
        if (payload.price) this.takePrice(payload.price as PriceScheme, at);
        return;
      case 'recharge':
        this.credit(payload.amount as string, at);
        return;
      case 'remain_option':
        // spec §5.3.13: 1000 returns money to the meter (返充), 2000 deducts it (补扣).
        if (Number(payload.option) === 2000) this.credit(new Exact(payload.amount as string).neg().toString(), at);
        else this.credit(payload.amount as string, at);
        return;
      case 'price_change':
        this.takePrice(payload as PriceScheme, at);
        return;
      case 'valve':
        this.setValveByOrder(payload.action === 'close' ? 'close' : 'open');
        return;
      case 'close_account':
        this.valve = '00';
        this.closedBy = 'command';
        return;
      default:
        return;
    }
  }

  private takePrice(scheme: PriceScheme, at: Date): void {
    this.scheme = scheme;
    this.schemeTakenAt = at;
  }

  private credit(amount: string, at: Date): void {
    this.balance = this.balance.add(amount);
    this.totalBuy = this.totalBuy.add(amount);
    if (this.balance.gte(LOW_BALANCE_THRESHOLD)) this.lowBalanceRaised = false;
    if (this.closedBy === 'balance' && this.balance.gt(0)) {
      this.valve = '01';
      this.closedBy = null;
    }
    this.checkBalance(at);
  }

  /** A CIS order (spec §5.3.12). Opening with no money left keeps the valve shut by the balance. */
  private setValveByOrder(action: 'close' | 'open'): void {
    if (action === 'close') {
      this.valve = '00';
      this.closedBy = 'command';
      return;
    }
    const broke = this.billing() && this.balance.lte(0);
    this.valve = broke ? '00' : '01';
    this.closedBy = broke ? 'balance' : null;
  }

  private checkBalance(at: Date): void {
    if (!this.billing()) return;
    if (this.balance.lt(LOW_BALANCE_THRESHOLD) && !this.lowBalanceRaised) {
      this.lowBalanceRaised = true;
      this.raise('LOW_BALANCE', at);
    }
    if (this.balance.lte(0) && this.valve === '01') {
      this.valve = '00';
      this.closedBy = 'balance';
      this.raise('ZERO_BALANCE', at);
    }
  }

  private drainBattery(drain: number, at: Date): void {
    this.battery = Math.max(0, this.battery - drain);
    if (this.battery < LOW_BATTERY_PERCENT && !this.lowBatteryRaised) {
      this.lowBatteryRaised = true;
      this.raise('LOW_BATTERY', at);
    }
  }

  private raise(type: string, at: Date): void {
    this.alarms.push({ type, at: this.clockTime(at) });
  }

  /** The time as the meter's own clock shows it, which is what it writes in reports and alarms. */
  private clockTime(at: Date): string {
    return new Date(at.getTime() + (this.faults.clockOffsetMs ?? 0)).toISOString();
  }

  private billing(): boolean {
    return this.billingMode === 'meter' && this.scheme !== null;
  }

  private currentCycleUsage(): string {
    return this.tierPosition.cycleUsage;
  }
}
