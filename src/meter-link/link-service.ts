import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../logger';
import { runTransaction } from '../persistence/transaction';
import { enqueueAlarmPushes, enqueueReadingPushes } from '../push/outbox';
import { alarmMessage } from './alarm-types';
import type { LinkSettings } from './command-policy';
import { CommandQueue, type ClaimedCommand, type FinishedCommand } from './command-queue';
import {
  DeviceRequestError,
  readAcknowledgements,
  readUplink,
  type CommandAnswer,
  type MeterReport,
} from './device-messages';
import type { Gateway } from './gateway-repository';
import { ReportRepository, type LinkedMeter, type StoredAlarm, type StoredReport } from './report-repository';

/**
 * The meter link's service: what happens when a gateway reports for its meters (uplink) and when
 * it brings their answers to commands (ack). Each call is one transaction: either everything it
 * carries is stored and the commands it takes are marked sent, or nothing is (issue 5: no report
 * is ever half-stored).
 */

/** A command as the device API hands it to a gateway. */
export interface DeliveredCommand {
  meterNo: string;
  commandId: string;
  sequence: string;
  kind: string;
  payload: Record<string, unknown>;
  attempt: number;
}

export interface UplinkAnswer {
  stored: number;
  repeated: number;
  alarms: number;
  commands: DeliveredCommand[];
}

export interface AckAnswer {
  results: Array<{ meterNo: string; sequence: string; status: 'succeeded' | 'failed' | 'ignored' }>;
  commands: DeliveredCommand[];
}

export interface LinkServiceDependencies {
  dataSource: DataSource;
  logger: Logger;
  settings: LinkSettings;
  /** This process's link_instance id, recorded on every command it sends. */
  instanceId: string;
}

export class MeterLinkService {
  constructor(private readonly dependencies: LinkServiceDependencies) {}

  async uplink(gateway: Gateway, body: string, requestId: string): Promise<UplinkAnswer> {
    const reports = readUplink(body, gateway.tenant.timeZone);

    const outcome = await this.transaction(async (manager) => {
      const meters = await findAllMeters(manager, gateway, reports.map((report) => report.meterNo));
      const stored = await this.storeReports(manager, gateway, meters, reports);
      const delivery = await this.deliver(manager, [...new Set(meters.values())]);
      return { ...stored, ...delivery };
    });

    this.logDelivery(gateway, requestId, outcome.finished, outcome.claimed, outcome.metersByRow);
    return {
      stored: outcome.readings.length,
      repeated: reports.length - outcome.readings.length,
      alarms: outcome.alarms.length,
      commands: outcome.claimed.map((command) => delivered(command, outcome.metersByRow)),
    };
  }

  async acknowledge(gateway: Gateway, body: string, requestId: string): Promise<AckAnswer> {
    const answers = readAcknowledgements(body);

    const outcome = await this.transaction(async (manager) => {
      const meters = await findAllMeters(manager, gateway, answers.map((answer) => answer.meterNo));
      const queue = this.queue(manager);
      const acknowledged = await queue.acknowledge(
        answers.map((answer) => ({
          meterRowId: (meters.get(answer.meterNo) as LinkedMeter).rowId,
          sequence: answer.sequence,
          applied: answer.result !== 'rejected',
          message: answer.result === 'duplicate' ? 'applied at an earlier send' : answer.message,
        })),
      );
      // The meter is still listening: hand it its next command in the same exchange.
      const delivery = await this.deliver(manager, [...new Set(meters.values())]);
      return { acknowledged, ...delivery };
    });

    const finished = [...outcome.acknowledged, ...outcome.finished];
    this.logDelivery(gateway, requestId, finished, outcome.claimed, outcome.metersByRow);
    return {
      results: answerResults(answers, outcome.acknowledged, outcome.metersByRow),
      commands: outcome.claimed.map((command) => delivered(command, outcome.metersByRow)),
    };
  }

  async listMeters(gateway: Gateway) {
    const meters = await new ReportRepository(this.dependencies.dataSource.manager).listMeters(gateway.tenant.id);
    return meters.map((meter) => ({
      meterNo: meter.meterNo,
      meterId: meter.meterId,
      state: meter.state,
      initialReading: meter.initialReading,
    }));
  }

  /**
   * The periodic sweep (and the start-up one): expire and fail what can no longer be delivered,
   * make orphaned sends of stopped processes due again. `exclusive`: no other process can be
   * running (embedded database), so every other process's sends are orphaned.
   */
  async sweep(exclusive: boolean): Promise<void> {
    const { instanceId } = this.dependencies;
    const { finished, rearmed } = await this.transaction(async (manager) => {
      const queue = this.queue(manager);
      await queue.heartbeat(instanceId);
      const rearmedCount = await queue.rearmOrphanedSends(instanceId, exclusive);
      return { finished: await queue.settle(), rearmed: rearmedCount };
    });
    for (const command of finished) this.logFinished(command, undefined, undefined);
    if (rearmed > 0) this.dependencies.logger.info({ rearmed }, 'orphaned sends are due again');
  }

  private async storeReports(
    manager: EntityManager,
    gateway: Gateway,
    meters: Map<string, LinkedMeter>,
    reports: MeterReport[],
  ) {
    const repository = new ReportRepository(manager);
    const tenantId = gateway.tenant.id;
    const rowIds = reports.map((report) => (meters.get(report.meterNo) as LinkedMeter).rowId);
    const readings = await repository.store(tenantId, gateway.id, rowIds, reports);
    const alarms = await repository.storeAlarms(
      tenantId,
      gateway.id,
      reports.flatMap((report, index) =>
        report.alarms.map((alarm) => ({
          meterRowId: rowIds[index] as string,
          alarmAt: alarm.at,
          alarmType: alarm.type,
          message: alarmMessage(alarm.type, alarm.message),
        })),
      ),
    );
    await queuePushes(manager, gateway, meters, reports, readings, alarms);
    return { readings, alarms };
  }

  /** Settle, then claim: the due head command of each meter, marked sent in this transaction. */
  private async deliver(manager: EntityManager, meters: LinkedMeter[]) {
    const queue = this.queue(manager);
    const rowIds = meters.map((meter) => meter.rowId);
    const finished = await queue.settle(rowIds);
    const claimed = await queue.claim(rowIds, this.dependencies.instanceId);
    const metersByRow = new Map(meters.map((meter) => [meter.rowId, meter]));
    return { finished, claimed, metersByRow };
  }

  private queue(manager: EntityManager): CommandQueue {
    return new CommandQueue(manager, this.dependencies.settings);
  }

  private transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return runTransaction(this.dependencies.dataSource, work);
  }

  /** One line per command movement, each with the correlation id of the CIS call that made it. */
  private logDelivery(
    gateway: Gateway,
    requestId: string,
    finished: FinishedCommand[],
    claimed: ClaimedCommand[],
    meters: Map<string, LinkedMeter>,
  ): void {
    const { logger } = this.dependencies;
    for (const command of finished) this.logFinished(command, meters.get(command.meterRowId), requestId);
    for (const command of claimed) {
      logger.info(
        {
          correlationId: command.correlationId,
          commandId: command.id,
          kind: command.kind,
          sequence: command.sequence,
          meterNo: meters.get(command.meterRowId)?.meterNo,
          tenant: gateway.tenant.code,
          gateway: gateway.name,
          attempt: `${command.attempt} of ${this.dependencies.settings.maxAttempts}`,
          requestId,
        },
        command.attempt > 1 ? 'command sent again' : 'command sent',
      );
    }
  }

  private logFinished(command: FinishedCommand, meter: LinkedMeter | undefined, requestId: string | undefined): void {
    const line = {
      correlationId: command.correlationId,
      commandId: command.id,
      kind: command.kind,
      sequence: command.sequence,
      meterNo: meter?.meterNo,
      state: command.state,
      requestId,
    };
    // A meter's refusal or silence is worth an operator's look; a success is routine.
    if (command.state === 'succeeded') this.dependencies.logger.info(line, 'command acknowledged');
    else this.dependencies.logger.warn(line, `command ${command.state}`);
    // The CIS's money did not reach the meter: say which of its calls, and what was taken back.
    for (const reversal of command.reversals) {
      this.dependencies.logger.warn(
        {
          ...line,
          tradeNo: reversal.tradeNo,
          reversedEntry: reversal.reversedEntryId,
          reversalEntry: reversal.entryId,
          amount: reversal.amount,
        },
        'money the meter never got reversed in the ledger',
      );
    }
  }
}

/** The gateway's tenant's meters by MeterNo; any unknown one refuses the whole call (422). */
async function findAllMeters(
  manager: EntityManager,
  gateway: Gateway,
  meterNos: string[],
): Promise<Map<string, LinkedMeter>> {
  const found = await new ReportRepository(manager).findMeters(gateway.tenant.id, meterNos);
  const meters = new Map(found.map((meter) => [meter.meterNo, meter]));
  const problems = meterNos
    .map((meterNo, index) => ({ meterNo, index }))
    .filter(({ meterNo }) => !meters.has(meterNo))
    .map(({ meterNo, index }) => ({ index, meterNo, message: `no meter ${meterNo} in tenant ${gateway.tenant.code}` }));
  if (problems.length > 0) throw new DeviceRequestError(422, problems);
  return meters;
}

/**
 * The CIS push (spec §6), written in this transaction so that a stored report always gets its
 * push and a refused one never does (push/outbox.ts).
 */
async function queuePushes(
  manager: EntityManager,
  gateway: Gateway,
  meters: Map<string, LinkedMeter>,
  reports: MeterReport[],
  readings: StoredReport[],
  alarms: StoredAlarm[],
): Promise<void> {
  const metersByRow = new Map([...meters.values()].map((meter) => [meter.rowId, meter]));
  const reportByKey = new Map(
    reports.map((report) => [`${meters.get(report.meterNo)?.rowId}@${report.readAt.getTime()}`, report]),
  );
  const tenantId = gateway.tenant.id;

  const readingPushes = readings.map((stored) => {
    const report = reportByKey.get(`${stored.meterRowId}@${new Date(stored.readAt).getTime()}`) as MeterReport;
    const meter = metersByRow.get(stored.meterRowId) as LinkedMeter;
    return {
      tenantId,
      meterRowId: meter.rowId,
      userNo: meter.userId,
      meterNo: meter.meterNo,
      readAt: report.readAt,
      reading: report.reading,
      valveState: report.valveState,
      temperature: report.temperature,
      pressure: report.pressure,
      remainMoney: report.remainMoney,
      totalUsedGas: report.totalUsedGas,
      totalUsedMoney: report.totalUsedMoney,
      totalBuyMoney: report.totalBuyMoney,
      price: report.price,
    };
  });
  const alarmPushes = alarms.map((alarm) => {
    const meter = metersByRow.get(alarm.meterRowId) as LinkedMeter;
    return {
      tenantId,
      meterRowId: meter.rowId,
      userNo: meter.userId,
      meterNo: meter.meterNo,
      alarmAt: new Date(alarm.alarmAt),
      alarmType: alarm.alarmType,
      alarmMessage: alarm.message,
    };
  });
  if (readingPushes.length > 0) await enqueueReadingPushes(manager, readingPushes);
  if (alarmPushes.length > 0) await enqueueAlarmPushes(manager, alarmPushes);
}

function delivered(command: ClaimedCommand, meters: Map<string, LinkedMeter>): DeliveredCommand {
  return {
    meterNo: (meters.get(command.meterRowId) as LinkedMeter).meterNo,
    commandId: command.id,
    sequence: command.sequence,
    kind: command.kind,
    payload: command.payload,
    attempt: command.attempt,
  };
}

function answerResults(
  answers: CommandAnswer[],
  acknowledged: FinishedCommand[],
  meters: Map<string, LinkedMeter>,
): AckAnswer['results'] {
  const outcome = new Map(
    acknowledged.map((command) => [`${meters.get(command.meterRowId)?.meterNo}#${command.sequence}`, command.state]),
  );
  return answers.map((answer) => {
    const state = outcome.get(`${answer.meterNo}#${answer.sequence}`);
    return {
      meterNo: answer.meterNo,
      sequence: answer.sequence,
      status: state === 'succeeded' || state === 'failed' ? state : 'ignored',
    };
  });
}
