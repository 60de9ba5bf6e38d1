import { Exact } from '../domain/decimal';
import type { Logger } from '../logger';
import { VirtualMeter, type MeterCommand, type MeterFaults, type Report } from './virtual-meter';

/**
 * A fleet of virtual meters behind one gateway, speaking the device API over HTTP exactly as a
 * real gateway would (docs/device-api.md): on each wake-up the meters consume, report in batches,
 * take the commands the answer carries, acknowledge them and take the next ones while awake.
 *
 * Like a real meter it stores and forwards: a report or an acknowledgement that did not get
 * through (the platform is down, the answer was lost) is sent again at the next wake-up, and the
 * platform recognises the repeat.
 */
export interface SimulatorOptions {
  /** The platform's base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  /** A gateway token of the tenant (`cnmcsp gateway add --tenant <code>`). */
  token: string;
  /** How often each meter wakes up. */
  intervalMs: number;
  /** m³ a meter uses between two wake-ups; default: 0.05 to 0.5 m³, at random. */
  consumption?: (meter: VirtualMeter, at: Date) => string;
  /** Battery percent lost per wake-up (a real meter lasts years; the demo shows the alarm). */
  batteryDrainPerWake?: number;
  /** Faults by MeterNo. */
  faults?: Record<string, MeterFaults>;
  /** Reports per uplink call. */
  batchSize?: number;
  timeZone?: string;
  clock?: () => Date;
  logger?: Logger;
  /** Per HTTP call. */
  timeoutMs?: number;
}

export interface WakeUpResult {
  reports: number;
  commands: number;
  errors: number;
}

interface PendingAck {
  meterNo: string;
  sequence: string;
  result: string;
  message?: string;
}

/** Acknowledge-and-take-next rounds per wake-up: a meter's backlog drains over a few wake-ups. */
const MAX_ROUNDS_PER_WAKE = 10;

export class Simulator {
  readonly meters = new Map<string, VirtualMeter>();
  private readonly unsentReports = new Map<string, Report[]>();
  private unsentAcks: PendingAck[] = [];
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private readonly clock: () => Date;

  constructor(private readonly options: SimulatorOptions) {
    this.clock = options.clock ?? (() => new Date());
  }

  /** The simulated MeterNos, in the order the platform listed them. */
  meterNosInOrder(): string[] {
    return [...this.meters.keys()];
  }

  /** Fetches the tenant's meters and adds a virtual meter for each one not yet simulated. */
  async refreshMeters(): Promise<number> {
    const answer = (await this.call('GET', 'meters')) as { meters: Array<{ meterNo: string; initialReading: string }> };
    let added = 0;
    for (const meter of answer.meters) {
      if (this.meters.has(meter.meterNo)) continue;
      const faults = this.options.faults?.[meter.meterNo] ?? {};
      this.meters.set(meter.meterNo, new VirtualMeter(meter.meterNo, meter.initialReading, this.timeZone(), faults));
      added += 1;
    }
    return added;
  }

  /** One wake-up of the given meters (default: all): consume, report, take and answer commands. */
  async wakeUp(meterNos: string[] = [...this.meters.keys()]): Promise<WakeUpResult> {
    const result: WakeUpResult = { reports: 0, commands: 0, errors: 0 };
    const batchSize = this.options.batchSize ?? 100;
    const now = this.clock();
    for (const meterNo of meterNos) this.measure(meterNo, now);

    await this.flushAcks(result);
    for (let start = 0; start < meterNos.length; start += batchSize) {
      await this.uplink(meterNos.slice(start, start + batchSize), result);
    }
    return result;
  }

  /** Wakes every meter every `intervalMs` (refreshing the fleet from the platform each time). */
  start(): void {
    const tick = async () => {
      try {
        await this.refreshMeters();
        const result = await this.wakeUp();
        this.options.logger?.debug(result, 'simulated meters woke up');
      } catch (error) {
        this.options.logger?.warn({ err: error }, 'simulated meters could not reach the platform');
      }
    };
    const loop = () => {
      this.running = tick().finally(() => {
        if (this.timer) this.timer = setTimeout(loop, this.options.intervalMs);
      });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    const timer = this.timer;
    this.timer = undefined;
    if (timer) clearTimeout(timer);
    await this.running?.catch(() => undefined);
  }

  private measure(meterNo: string, at: Date): void {
    const meter = this.meters.get(meterNo);
    if (!meter) throw new Error(`no simulated meter ${meterNo}`);
    meter.consume(this.volume(meter, at), at, this.options.batteryDrainPerWake ?? 0);
    const queue = this.unsentReports.get(meterNo) ?? [];
    queue.push(meter.report(at));
    // A meter keeps a bounded backlog, as its memory is.
    this.unsentReports.set(meterNo, queue.slice(-24));
  }

  private async uplink(meterNos: string[], result: WakeUpResult): Promise<void> {
    const reports = meterNos.flatMap((meterNo) => this.unsentReports.get(meterNo) ?? []);
    if (reports.length === 0) return;
    let answer: { commands: Array<MeterCommand & { meterNo: string }> };
    try {
      answer = (await this.call('POST', 'uplink', { reports })) as typeof answer;
    } catch (error) {
      result.errors += 1;
      this.options.logger?.debug({ err: error }, 'uplink failed; the reports wait for the next wake-up');
      return;
    }
    for (const meterNo of meterNos) {
      this.unsentReports.delete(meterNo);
      this.meters.get(meterNo)?.reportDelivered();
    }
    result.reports += reports.length;
    await this.takeCommands(answer.commands, result);
  }

  /** Applies the commands, acknowledges them, and takes the next ones while the meters are awake. */
  private async takeCommands(commands: Array<MeterCommand & { meterNo: string }>, result: WakeUpResult): Promise<void> {
    let batch = commands;
    for (let round = 0; batch.length > 0 && round < MAX_ROUNDS_PER_WAKE; round += 1) {
      const now = this.clock();
      for (const command of batch) {
        result.commands += 1;
        const outcome = this.meters.get(command.meterNo)?.receive(command, now);
        if (outcome) this.unsentAcks.push({ meterNo: command.meterNo, sequence: command.sequence, ...outcome });
      }
      batch = await this.flushAcks(result);
    }
  }

  /** Sends the acknowledgements waiting; returns the next commands the platform handed over. */
  private async flushAcks(result: WakeUpResult): Promise<Array<MeterCommand & { meterNo: string }>> {
    if (this.unsentAcks.length === 0) return [];
    const acks = this.unsentAcks.splice(0, 1000);
    try {
      const answer = (await this.call('POST', 'ack', { acks })) as { commands: Array<MeterCommand & { meterNo: string }> };
      return answer.commands;
    } catch (error) {
      result.errors += 1;
      this.unsentAcks.unshift(...acks);
      this.options.logger?.debug({ err: error }, 'acknowledgement failed; it waits for the next wake-up');
      return [];
    }
  }

  private volume(meter: VirtualMeter, at: Date): string {
    if (this.options.consumption) return this.options.consumption(meter, at);
    return new Exact(Math.floor(500 + Math.random() * 4500)).div(10000).toFixed(4);
  }

  private timeZone(): string {
    return this.options.timeZone ?? 'Asia/Shanghai';
  }

  private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.options.url}/device/v1/${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.options.token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`device API ${path}: HTTP ${response.status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as unknown;
  }
}
