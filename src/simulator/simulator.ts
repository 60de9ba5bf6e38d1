import { Exact } from '../domain/decimal';
import type { Logger } from '../logger';
import { describeProblem, MAX_ITEMS_PER_CALL, type Problem } from '../meter-link/device-messages';
import { VirtualMeter, type MeterCommand, type MeterFaults, type Report } from './virtual-meter';

/**
 * A fleet of virtual meters behind one gateway, speaking the device API over HTTP exactly as a
 * real gateway would (docs/device-api.md): on each wake-up the meters consume, report in batches,
 * take the commands the answer carries, acknowledge them and take the next ones while awake.
 *
 * Like a real meter it stores and forwards: a report or an acknowledgement that did not get
 * through (the platform is down, the answer was lost) is sent again at the next wake-up, and the
 * platform recognises the repeat. What the platform refuses (HTTP 400 or 422) would be refused
 * again: those items are logged once and dropped, and the rest of the call is sent again at once,
 * so that one meter's bad data never holds up the other meters behind the same gateway.
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
  /** Reports the platform took (stored, or recognised as repeats). */
  reports: number;
  /** Reports and acknowledgements the platform refused, dropped for good. */
  refused: number;
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

/** Reports a meter keeps while the platform cannot be reached, as its memory is bounded. */
const MAX_UNSENT_REPORTS_PER_METER = 24;

type DeliveredCommand = MeterCommand & { meterNo: string };

/** An HTTP answer other than 200 from the device API. */
class DeviceCallError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    readonly text: string,
  ) {
    super(`device API ${path}: HTTP ${status} ${text.slice(0, 500)}`);
    this.name = 'DeviceCallError';
  }

  /**
   * 400 (malformed) and 422 (not a meter of the tenant) refuse the data itself: sent again as it
   * is, it would be refused again (docs/device-api.md). Anything else may pass later.
   */
  get refusesTheData(): boolean {
    return this.status === 400 || this.status === 422;
  }

  /** The problems the answer lists; empty when it lists none that can be read. */
  problems(): Problem[] {
    try {
      const body = JSON.parse(this.text) as { problems?: unknown };
      return Array.isArray(body.problems) ? (body.problems as Problem[]) : [];
    } catch {
      return [];
    }
  }
}

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
    const result: WakeUpResult = { reports: 0, refused: 0, commands: 0, errors: 0 };
    const now = this.clock();
    for (const meterNo of meterNos) this.measure(meterNo, now);

    // Acknowledgements an earlier wake-up could not send go first; the platform answers them with
    // the meters' next commands, already marked sent to them, which the meters take now.
    await this.takeCommands(await this.flushAcks(result), result);
    for (const batch of this.batches(meterNos)) await this.uplink(batch, result);
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
    this.unsentReports.set(meterNo, queue.slice(-MAX_UNSENT_REPORTS_PER_METER));
  }

  /**
   * The meters in uplink calls of at most `batchSize` meters and the device API's limit of
   * reports: after an outage each meter carries its backlog, and a call over the limit would be
   * refused (413) at every wake-up.
   */
  private batches(meterNos: string[]): string[][] {
    const batchSize = this.options.batchSize ?? 100;
    const batches: string[][] = [];
    let batch: string[] = [];
    let reports = 0;
    for (const meterNo of meterNos) {
      const waiting = this.unsentReports.get(meterNo)?.length ?? 0;
      if (batch.length > 0 && (batch.length >= batchSize || reports + waiting > MAX_ITEMS_PER_CALL)) {
        batches.push(batch);
        batch = [];
        reports = 0;
      }
      batch.push(meterNo);
      reports += waiting;
    }
    if (batch.length > 0) batches.push(batch);
    return batches;
  }

  private async uplink(meterNos: string[], result: WakeUpResult): Promise<void> {
    const reports = meterNos.flatMap((meterNo) => this.unsentReports.get(meterNo) ?? []);
    if (reports.length === 0) return;
    const call = await this.sendDroppingRefused('uplink', 'reports', reports, result, (refused) => {
      for (const report of refused) this.dropReport(report);
    });
    if (!call.delivered) return;

    // Every report of these meters was in the calls: taken by the platform, or refused.
    for (const meterNo of meterNos) {
      this.unsentReports.delete(meterNo);
      this.meters.get(meterNo)?.reportDelivered();
    }
    result.reports += call.items.length;
    await this.takeCommands(call.commands, result);
  }

  private dropReport(report: Report): void {
    const queue = this.unsentReports.get(report.meterNo) ?? [];
    this.unsentReports.set(report.meterNo, queue.filter((waiting) => waiting !== report));
  }

  /** Applies the commands, acknowledges them, and takes the next ones while the meters are awake. */
  private async takeCommands(commands: DeliveredCommand[], result: WakeUpResult): Promise<void> {
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
  private async flushAcks(result: WakeUpResult): Promise<DeliveredCommand[]> {
    if (this.unsentAcks.length === 0) return [];
    const acks = this.unsentAcks.splice(0, MAX_ITEMS_PER_CALL);
    const call = await this.sendDroppingRefused('ack', 'acks', acks, result, () => undefined);
    if (!call.delivered) {
      this.unsentAcks.unshift(...call.items);
      return [];
    }
    return call.commands;
  }

  /**
   * One call with these items. What the platform refuses (400, 422) is logged once, handed to
   * `drop` and not sent again; the rest is sent again at once, as the platform stored nothing of a
   * refused call. Not delivered: the call did not get through, and `items` (the ones not refused)
   * wait for the next wake-up.
   */
  private async sendDroppingRefused<T extends { meterNo: string }>(
    path: 'uplink' | 'ack',
    key: 'reports' | 'acks',
    items: T[],
    result: WakeUpResult,
    drop: (refused: T[]) => void,
  ): Promise<{ delivered: true; items: T[]; commands: DeliveredCommand[] } | { delivered: false; items: T[] }> {
    let remaining = items;
    while (remaining.length > 0) {
      try {
        const answer = (await this.call('POST', path, { [key]: remaining })) as { commands: DeliveredCommand[] };
        return { delivered: true, items: remaining, commands: answer.commands };
      } catch (error) {
        if (!(error instanceof DeviceCallError && error.refusesTheData)) {
          result.errors += 1;
          this.options.logger?.debug({ err: error }, `${path} failed; it is sent again at the next wake-up`);
          return { delivered: false, items: remaining };
        }
        const problems = error.problems();
        const refused = refusedItems(remaining, problems);
        this.logRefusal(path, error.status, problems, refused);
        result.refused += refused.length;
        drop(refused);
        remaining = remaining.filter((item) => !refused.includes(item));
      }
    }
    return { delivered: true, items: [], commands: [] };
  }

  private logRefusal(path: string, status: number, problems: Problem[], refused: Array<{ meterNo: string }>): void {
    this.options.logger?.warn(
      {
        call: path,
        status,
        dropped: refused.length,
        meterNos: [...new Set(refused.map((item) => item.meterNo))].slice(0, 20),
        problems: problems.slice(0, 20).map((problem) => describeProblem(problem)),
      },
      'the platform refused data of simulated meters: dropped, not sent again',
    );
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
    if (!response.ok) throw new DeviceCallError(path, response.status, text);
    return JSON.parse(text) as unknown;
  }
}

/**
 * The items a refusal names by index; all of them when it names none it sent (a problem with the
 * whole call), so that a refusal always drops something and no call is refused forever.
 */
function refusedItems<T>(items: T[], problems: Problem[]): T[] {
  const named = new Set(problems.map((problem) => problem.index));
  const refused = items.filter((_item, index) => named.has(index));
  return refused.length > 0 ? refused : items;
}
