import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import { ReturnCode } from '../domain/return-codes';
import type { Logger } from '../logger';
import {
  PushOutboxRepository,
  type ClaimedPush,
  type PushKind,
} from '../persistence/repositories/push-outbox-repository';
import type { PushTarget } from '../persistence/repositories/push-settings-repository';
import { retryDelayMs } from './backoff';
import { LaneAgents, sendPush, type CisAnswer } from './cis-sender';
import type { OutcomeWriter } from './outcome-writer';
import type { PushKeys } from './push-keys';
import { pushPayloadJson } from './push-message';

/**
 * One tenant's share of the delivery worker (issue 6, isolation): its own in-flight limit, its own
 * keep-alive sockets, its own claim query (push_outbox rows of this tenant only) and its own
 * circuit. A slow or dead CIS fills this lane's slots and nothing else: the other lanes claim and
 * send on their own schedule.
 */
export interface LaneDependencies {
  dataSource: DataSource;
  keys: PushKeys;
  writer: OutcomeWriter;
  logger: Logger;
}

/**
 * Consecutive attempts without an answer (refused, reset, timed out) after which the lane stops
 * sending and probes with one push at a time, waiting its backoff between probes. Pushes are not
 * attempted meanwhile, so a CIS that is down costs neither its pushes' attempts nor the platform's
 * work; an answer, whatever its ReturnCode, closes the circuit again.
 */
const CIRCUIT_THRESHOLD = 3;

/** What became of an attempt: the CIS's answer (or its silence), or not sent at all. */
type Outcome = CisAnswer | { notSent: string };

export class TenantLane {
  /** Claimed and waiting for a free slot: at most `concurrency` of them (see `wanted`). */
  private readonly waiting: ClaimedPush[] = [];
  private readonly inFlight = new Map<string, ClaimedPush>();
  private readonly agents: LaneAgents;
  private readonly abort = new AbortController();
  private readonly released: ClaimedPush[] = [];
  private readonly logger: Logger;
  private claimRunning?: Promise<void>;
  private pumpAgain = false;
  private moreDue = false;
  private stopping = false;
  private consecutiveNoAnswer = 0;
  private circuitOpenUntil = 0;
  private settled?: () => void;
  private readonly tally = new AttemptTally();

  constructor(
    private target: PushTarget,
    private readonly dependencies: LaneDependencies,
  ) {
    this.agents = new LaneAgents(target.concurrency);
    this.logger = dependencies.logger.child({ tenant: target.tenantCode });
  }

  get tenantId(): number {
    return this.target.tenantId;
  }

  update(target: PushTarget): void {
    this.target = target;
    this.agents.resize(target.concurrency);
  }

  /** True when a claim now could start or line up at least one push. */
  hasRoom(): boolean {
    return !this.stopping && (this.wanted() > 0 || this.canStartWaiting());
  }

  /** Claims as many due pushes as the lane wants and starts sending them. */
  pump(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    this.startWaiting();
    if (this.claimRunning) {
      // Room freed while a claim was under way: claim again as soon as it returns.
      this.pumpAgain = true;
      return this.claimRunning;
    }
    const wanted = this.wanted();
    const kinds = this.kinds();
    if (wanted <= 0 || kinds.length === 0) return Promise.resolve();

    this.claimRunning = this.claim(kinds, wanted).finally(() => {
      this.claimRunning = undefined;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        if (this.moreDue) void this.pump();
      }
    });
    return this.claimRunning;
  }

  /**
   * Stops claiming, lets the pushes in flight finish for up to `graceMs`, then aborts the rest.
   * Returns the claims that were aborted or never started, for the worker to give back.
   */
  async stop(graceMs: number): Promise<ClaimedPush[]> {
    this.stopping = true;
    await this.claimRunning;
    this.released.push(...this.waiting.splice(0));
    await this.whenSettled(graceMs);
    this.abort.abort();
    await this.whenSettled(Number.POSITIVE_INFINITY);
    this.agents.destroy();
    return this.released;
  }

  private async claim(kinds: PushKind[], wanted: number): Promise<void> {
    try {
      const repository = new PushOutboxRepository(this.dependencies.dataSource.manager);
      const claims = await repository.claim(this.tenantId, kinds, wanted, this.leaseMs());
      this.moreDue = claims.length === wanted;
      if (this.stopping) {
        this.released.push(...claims);
        return;
      }
      this.waiting.push(...claims);
      this.startWaiting();
      this.releaseWaitingIfPaused();
    } catch (error) {
      this.moreDue = false;
      if (this.dependencies.dataSource.isInitialized) {
        this.logger.error({ err: error }, 'claiming pushes failed');
      }
    }
  }

  /** Starts waiting pushes while slots are free. */
  private startWaiting(): void {
    while (this.canStartWaiting()) void this.attempt(this.waiting.shift() as ClaimedPush);
  }

  private canStartWaiting(): boolean {
    return this.waiting.length > 0 && this.inFlight.size < this.allowedInFlight(Date.now());
  }

  /**
   * While the circuit is open or probing, lined-up pushes go back to the queue rather than outlive
   * their lease here; the probe is claimed on its own.
   */
  private releaseWaitingIfPaused(): void {
    if (this.consecutiveNoAnswer < CIRCUIT_THRESHOLD || this.waiting.length === 0) return;
    this.dependencies.writer.recordReleased(this.waiting.splice(0));
  }

  /**
   * How many pushes to claim now: enough to fill the free slots and line up as many again, so
   * that the next claim overlaps with sending instead of leaving slots idle during its round trip.
   * Claims come in batches (a quarter of the limit at least) unless the lane is idle. A push that
   * waits for a slot waits for at most one attempt (its timeout) before its own, which the lease
   * (2 × timeout + 5 s) covers. Nothing is lined up while the circuit is open.
   */
  private wanted(): number {
    const limit = this.allowedInFlight(Date.now());
    const buffer = limit === this.target.concurrency ? limit : 0;
    const wanted = limit + buffer - this.inFlight.size - this.waiting.length;
    const batch = Math.max(1, Math.ceil(limit / 4));
    const idle = this.inFlight.size === 0 && this.waiting.length === 0;
    return wanted >= batch || (wanted > 0 && idle) ? wanted : 0;
  }

  private allowedInFlight(now: number): number {
    if (this.consecutiveNoAnswer < CIRCUIT_THRESHOLD) return this.target.concurrency;
    return now < this.circuitOpenUntil ? 0 : 1;
  }

  private kinds(): PushKind[] {
    const kinds: PushKind[] = [];
    if (this.target.readingUrl) kinds.push('reading');
    if (this.target.alarmUrl) kinds.push('alarm');
    return kinds;
  }

  /**
   * The claim's lease: long enough for an attempt (its timeout) and for its outcome to be written,
   * short enough that the pushes of a killed process go out again soon.
   */
  private leaseMs(): number {
    return 2 * this.target.timeoutMs + 5_000;
  }

  private async attempt(claim: ClaimedPush): Promise<void> {
    this.inFlight.set(claim.id, claim);
    const started = performance.now();

    const answer = await this.send(claim);

    this.inFlight.delete(claim.id);
    this.settle(claim, answer, Math.round(performance.now() - started));
    if (!this.stopping) this.startWaiting();
    if (this.inFlight.size === 0) this.notifySettled();
    if (this.moreDue || this.inFlight.size === 0) void this.pump();
  }

  private async send(claim: ClaimedPush): Promise<Outcome> {
    const target = this.target;
    const url = claim.kind === 'reading' ? target.readingUrl : target.alarmUrl;
    if (!url) return { notSent: `no ${claim.kind} URL configured` };

    try {
      const keys = target.plaintext ? undefined : await this.dependencies.keys.keysFor(target.tenantId);
      if (!target.plaintext && !keys) {
        return { notSent: 'the tenant has no registration code to encrypt with (cnmcsp tenant issue-code)' };
      }

      return await sendPush({
        url,
        format: target.format,
        kind: claim.kind,
        payloadJson: pushPayloadJson(claim),
        keys,
        timeoutMs: target.timeoutMs,
        agents: this.agents,
        signal: this.abort.signal,
      });
    } catch (error) {
      // A platform fault (keys unreadable, a bug), not the CIS's: logged with its stack, retried.
      this.logger.error({ err: error, requestSerialNo: claim.requestSerialNo }, 'push could not be sent');
      return { notSent: `platform error: ${(error as Error).message}` };
    }
  }

  private settle(claim: ClaimedPush, answer: Outcome, durationMs: number): void {
    const context = {
      kind: claim.kind,
      requestSerialNo: claim.requestSerialNo,
      attempt: claim.attempt,
      durationMs,
    };

    if ('notSent' in answer) {
      // The platform's own fault, not the CIS's: no code, no effect on the circuit, retried.
      this.recordFailure(claim, null, `not sent: ${answer.notSent}`, context.durationMs);
      return;
    }
    if (answer.answered && answer.returnCode === ReturnCode.Success) {
      this.closeCircuit();
      this.dependencies.writer.recordDelivered(claim.id);
      this.tally.count(context.durationMs, undefined);
      this.logger.debug({ ...context, code: 0 }, 'push delivered');
      return;
    }
    if (!answer.answered && this.abort.signal.aborted) {
      this.released.push(claim);
      return;
    }

    // DECISIONS §5.7: no answer is recorded as 80002032; any other ReturnCode is retried as is.
    const code = answer.answered ? answer.returnCode : ReturnCode.PeerNoResponse;
    const error = answer.answered
      ? `CIS answered ${answer.returnCode ?? '(no ReturnCode)'}: ${answer.message}`
      : `对方服务器无响应: ${answer.reason}`;
    if (answer.answered) this.closeCircuit();
    else this.countNoAnswer();

    this.recordFailure(claim, code, error, context.durationMs);
  }

  private recordFailure(claim: ClaimedPush, code: number | null, error: string, durationMs: number): void {
    const retryDelay = retryDelayMs(
      { baseMs: this.target.backoffBaseMs, maxMs: this.target.backoffMaxMs },
      claim.attempt,
    );
    this.dependencies.writer.recordFailed({
      id: claim.id,
      attempt: claim.attempt,
      code,
      error,
      retryDelayMs: retryDelay,
      maxAgeSeconds: this.target.maxAgeSeconds,
    });
    this.tally.count(durationMs, { code, error });
    this.logger.debug(
      { kind: claim.kind, requestSerialNo: claim.requestSerialNo, attempt: claim.attempt, code, error, retryInMs: retryDelay },
      'push failed',
    );
  }

  /**
   * Logs what the lane did since the last call, one line, if it did anything: at info when every
   * attempt was delivered, at warn with the latest failure otherwise. A line per push would be a
   * thousand lines a second that nobody follows (they are at debug).
   */
  logSummary(): void {
    const summary = this.tally.take();
    if (!summary) return;
    const line = { ...summary, inFlight: this.inFlight.size, paused: this.consecutiveNoAnswer >= CIRCUIT_THRESHOLD };
    if (summary.failed === 0) this.logger.info(line, 'pushes delivered');
    else this.logger.warn(line, 'pushes failed and will be retried');
  }

  private countNoAnswer(): void {
    this.consecutiveNoAnswer += 1;
    if (this.consecutiveNoAnswer < CIRCUIT_THRESHOLD) return;

    const pause = retryDelayMs(
      { baseMs: this.target.backoffBaseMs, maxMs: this.target.backoffMaxMs },
      this.consecutiveNoAnswer - CIRCUIT_THRESHOLD + 1,
    );
    this.circuitOpenUntil = Date.now() + pause;
    this.releaseWaitingIfPaused();
    if (this.consecutiveNoAnswer === CIRCUIT_THRESHOLD) {
      this.logger.warn({ pauseMs: pause }, 'CIS does not answer: pushes paused, probing one at a time');
    }
  }

  private closeCircuit(): void {
    if (this.consecutiveNoAnswer >= CIRCUIT_THRESHOLD) this.logger.info('CIS answers again: pushes resumed');
    this.consecutiveNoAnswer = 0;
    this.circuitOpenUntil = 0;
  }

  private notifySettled(): void {
    const settled = this.settled;
    this.settled = undefined;
    settled?.();
  }

  private whenSettled(timeoutMs: number): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = Number.isFinite(timeoutMs) ? setTimeout(done, timeoutMs) : undefined;
      const previous = this.settled;
      function done() {
        if (timer) clearTimeout(timer);
        resolve();
      }
      this.settled = () => {
        previous?.();
        done();
      };
    });
  }
}

/** Attempts of one lane between two summaries. */
class AttemptTally {
  private delivered = 0;
  private failed = 0;
  private totalMs = 0;
  private maxMs = 0;
  private lastFailure?: { code: number | null; error: string };

  count(durationMs: number, failure: { code: number | null; error: string } | undefined): void {
    if (failure) {
      this.failed += 1;
      this.lastFailure = failure;
    } else {
      this.delivered += 1;
    }
    this.totalMs += durationMs;
    this.maxMs = Math.max(this.maxMs, durationMs);
  }

  take() {
    const attempts = this.delivered + this.failed;
    if (attempts === 0) return undefined;
    const summary = {
      delivered: this.delivered,
      failed: this.failed,
      averageMs: Math.round(this.totalMs / attempts),
      maxMs: this.maxMs,
      lastFailureCode: this.lastFailure?.code,
      lastFailure: this.lastFailure?.error,
    };
    this.delivered = 0;
    this.failed = 0;
    this.totalMs = 0;
    this.maxMs = 0;
    this.lastFailure = undefined;
    return summary;
  }
}
