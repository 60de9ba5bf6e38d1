import type { Command } from 'commander';
import type { PushRow } from '../persistence/repositories/push-outbox-repository';
import type { PushSettings } from '../persistence/repositories/push-settings-repository';
import { PushAdmin, type PushSettingsChange } from '../push/push-admin';
import { withCliDatabase } from './cli-database';
import { parseDurationMs } from './option-parsers';

/** `cnmcsp push ...`: pushing readings and alarms to each tenant's CIS (spec §6, issue 6). */
export function registerPushCommands(program: Command): void {
  const push = program.command('push').description('push readings and alarms to the CIS (spec §6)');

  push
    .command('set <tenant>')
    .description("set where and how a tenant's readings and alarms are pushed")
    .option('--reading-url <url>', 'where readings go (实时数据上传, spec §6.1); "none" stops them')
    .option('--alarm-url <url>', 'where alarms go (警报信息上传, spec §6.2); "none" stops them')
    .option('--format <format>', 'rest (JSON) or soap (wsdl/CIS_PushReceiver.wsdl)')
    .option('--timeout <duration>', 'how long one attempt waits for an answer, e.g. 10s, 500ms')
    .option('--concurrency <n>', 'attempts in flight at once, per platform process')
    .option('--max-age <duration>', 'after this long undelivered a push becomes a dead letter, e.g. 7d')
    .option('--backoff-base <duration>', 'first retry delay, doubled per failure, e.g. 1s')
    .option('--backoff-max <duration>', 'longest retry delay, e.g. 5m')
    .action(async (tenant: string, options: Record<string, string | undefined>) => {
      const change = parseSettingsChange(options);
      const settings = await withCliDatabase((database) => new PushAdmin(database.dataSource).configure(tenant, change));
      console.log(`push settings of ${tenant} saved:`);
      console.table([describeSettings(settings)]);
    });

  push
    .command('show <tenant>')
    .description("a tenant's push settings, queue and latest failures")
    .action(async (tenant: string) => {
      const overview = await withCliDatabase((database) => new PushAdmin(database.dataSource).overview(tenant));
      console.log(`${overview.tenantCode} (${overview.tenantName}), ${overview.plaintext ? 'plaintext' : 'encrypted'}`);
      console.table([describeSettings(overview.settings)]);
      console.table([{ ...overview.counts, oldestPendingAt: overview.counts.oldestPendingAt?.toISOString() ?? '' }]);
      if (overview.recentFailures.length > 0) {
        console.log('latest failures:');
        console.table(overview.recentFailures.map(describeRow));
      }
    });

  push
    .command('dead')
    .description('list dead letters: pushes that outlived their maximum age undelivered')
    .option('--tenant <tenant>', 'of this tenant only')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (options: { tenant?: string; limit: string }) => {
      const rows = await withCliDatabase((database) =>
        new PushAdmin(database.dataSource).deadLetters(options.tenant, parseWhole('--limit', options.limit)),
      );
      if (rows.length === 0) console.log('no dead letters');
      else console.table(rows.map(describeRow));
    });

  push
    .command('resend [push]')
    .description('send dead letters again (same requestSerialNo, a fresh maximum age)')
    .option('--all-dead', 'every dead letter (of --tenant, if given)')
    .option('--tenant <tenant>', 'with --all-dead: of this tenant only')
    .action(async (push: string | undefined, options: { allDead?: boolean; tenant?: string }) => {
      if ((push === undefined) === !options.allDead) {
        throw new Error('name one push (its id or requestSerialNo) or give --all-dead');
      }
      await withCliDatabase(async (database) => {
        const admin = new PushAdmin(database.dataSource);
        if (options.allDead) {
          console.log(`${await admin.resendAllDead(options.tenant)} dead letters queued again`);
          return;
        }
        const row = await admin.resendOne(push as string);
        console.log(`push ${row.id} (${row.requestSerialNo}) queued again`);
      });
    });
}

function parseSettingsChange(options: Record<string, string | undefined>): PushSettingsChange {
  const url = (value: string | undefined) => (value === undefined ? undefined : value === 'none' ? null : value);
  const duration = (name: string, value: string | undefined) =>
    value === undefined ? undefined : parseDurationMs(name, value);

  const maxAgeMs = duration('--max-age', options.maxAge);
  return {
    readingUrl: url(options.readingUrl),
    alarmUrl: url(options.alarmUrl),
    format: options.format === undefined ? undefined : parseFormat(options.format),
    timeoutMs: duration('--timeout', options.timeout),
    concurrency: options.concurrency === undefined ? undefined : parseWhole('--concurrency', options.concurrency),
    maxAgeSeconds: maxAgeMs === undefined ? undefined : Math.ceil(maxAgeMs / 1000),
    backoffBaseMs: duration('--backoff-base', options.backoffBase),
    backoffMaxMs: duration('--backoff-max', options.backoffMax),
  };
}

function parseFormat(text: string): 'rest' | 'soap' {
  if (text === 'rest' || text === 'soap') return text;
  throw new Error(`--format must be rest or soap, not ${text}`);
}

function parseWhole(name: string, text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new Error(`${name} must be a whole number, not ${text}`);
  return Number(text);
}

function describeSettings(settings: PushSettings) {
  return {
    readingUrl: settings.readingUrl ?? '(none)',
    alarmUrl: settings.alarmUrl ?? '(none)',
    format: settings.format,
    timeout: `${settings.timeoutMs}ms`,
    concurrency: settings.concurrency,
    maxAge: `${settings.maxAgeSeconds}s`,
    backoff: `${settings.backoffBaseMs}ms..${settings.backoffMaxMs}ms`,
  };
}

function describeRow(row: PushRow) {
  return {
    id: row.id,
    tenant: row.tenantCode,
    kind: row.kind,
    requestSerialNo: row.requestSerialNo,
    meterNo: row.meterNo ?? '',
    state: row.state,
    attempts: row.attempts,
    createdAt: row.createdAt.toISOString(),
    lastCode: row.lastCode ?? '',
    lastError: (row.lastError ?? '').slice(0, 80),
  };
}
