import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config/config';
import { createLogger } from '../logger';
import { CommandHistory } from '../meter-link/command-history';
import { GatewayRepository } from '../meter-link/gateway-repository';
import { Store } from '../persistence/repositories/store';
import { Simulator } from '../simulator/simulator';
import type { MeterFaults } from '../simulator/virtual-meter';
import { withCliDatabase } from './cli-database';
import { bigserialId, decimalNumber, nonBlankText, serialId, wholeNumber } from './option-parsers';

/**
 * `cnmcsp gateway ...`, `cnmcsp command ...` and `cnmcsp simulate`: the meter link seen from the
 * operator's side (issue 5).
 */
export function registerMeterLinkCommands(program: Command): void {
  registerGatewayCommands(program);
  registerCommandCommands(program);
  registerSimulateCommand(program);
}

const COMMAND_STATES = ['queued', 'sent', 'succeeded', 'failed', 'expired', 'cancelled'];
const COMMAND_KINDS = ['open_account', 'recharge', 'price_change', 'valve', 'remain_option', 'close_account'];

function registerGatewayCommands(program: Command): void {
  const gateway = program.command('gateway').description('gateways that report for meters (device API)');

  gateway
    .command('add')
    .description('add a gateway for a tenant and print its token (shown this once, stored hashed)')
    .requiredOption('--tenant <code>', 'the tenant whose meters it speaks for')
    .option('--name <name>', 'a name to recognise it by (1 to 100 characters)', nonBlankText(100), `gateway-${new Date().toISOString().slice(0, 19)}`)
    .action(async (options: { tenant: string; name: string }) => {
      const added = await withCliDatabase(async (database) => {
        const manager = database.dataSource.manager;
        const tenant = await new Store(manager).tenants.findByCode(options.tenant);
        if (!tenant) throw new Error(`no tenant with code ${options.tenant}`);
        return new GatewayRepository(manager).add(tenant.id, options.name);
      });
      console.log(`gateway ${added.id} (${options.name}) added for tenant ${options.tenant}`);
      console.log(`token (keep it now, it cannot be shown again): ${added.token}`);
    });

  gateway
    .command('list')
    .description('list gateways')
    .option('--tenant <code>', 'only this tenant')
    .action(async (options: { tenant?: string }) => {
      const gateways = await withCliDatabase(async (database) => {
        const manager = database.dataSource.manager;
        const tenant = options.tenant ? await new Store(manager).tenants.findByCode(options.tenant) : undefined;
        if (options.tenant && !tenant) throw new Error(`no tenant with code ${options.tenant}`);
        return new GatewayRepository(manager).list(tenant?.id);
      });
      console.table(gateways);
    });

  gateway
    .command('revoke')
    .description('stop accepting a gateway token (within 10 s on a running platform)')
    .argument('<id>', 'the gateway id (see `cnmcsp gateway list`)', serialId)
    .action(async (id: number) => {
      const revoked = await withCliDatabase((database) => new GatewayRepository(database.dataSource.manager).revoke(id));
      if (!revoked) throw new Error(`no active gateway ${id}`);
      console.log(`gateway ${id} revoked`);
    });
}

function registerCommandCommands(program: Command): void {
  const command = program.command('command').description('commands queued for meters');

  command
    .command('list')
    .description('list commands, newest first')
    .option('--tenant <code>', 'only this tenant')
    .option('--meter <MeterID>', "only this meter (the CIS's MeterID)")
    .option('--state <states>', `comma-separated: ${COMMAND_STATES.join(',')}`, parseStates)
    .option('--correlation <id>', 'only the commands of this CIS request (its request id)')
    .option('--limit <n>', 'at most this many, 1 to 10000', wholeNumber(1, 10_000), 50)
    .action(async (options: { tenant?: string; meter?: string; state?: string[]; correlation?: string; limit: number }) => {
      const commands = await withCliDatabase(async (database) => {
        const manager = database.dataSource.manager;
        if (options.tenant && !(await new Store(manager).tenants.findByCode(options.tenant))) {
          throw new Error(`no tenant with code ${options.tenant}`);
        }
        return new CommandHistory(manager).list({
          tenantCode: options.tenant,
          meterId: options.meter,
          states: options.state,
          correlationId: options.correlation,
          limit: options.limit,
        });
      });
      console.table(
        commands.map((c) => ({
          id: c.id,
          tenant: c.tenant,
          meter: c.meterId,
          seq: c.sequence,
          kind: c.kind,
          state: c.state,
          attempts: c.attempts,
          created: c.createdAt.toISOString(),
          correlation: c.correlationId,
          result: c.resultMessage ?? '',
        })),
      );
    });

  command
    .command('show')
    .description('one command, its payload and its history')
    .argument('<id>', 'the command id (see `cnmcsp command list`)', bigserialId)
    .action(async (id: string) => {
      const found = await withCliDatabase((database) => new CommandHistory(database.dataSource.manager).show(id));
      if (!found) throw new Error(`no command ${id}`);
      const { command: c, events } = found;
      console.log(`command ${c.id}: ${c.kind} #${c.sequence} for meter ${c.meterId} (MeterNo ${c.meterNo}, tenant ${c.tenant})`);
      console.log(`state ${c.state} after ${c.attempts} attempt(s)${c.resultMessage ? `: ${c.resultMessage}` : ''}`);
      console.log(`correlation id ${c.correlationId} (the CIS request that created it)`);
      console.log(`payload ${JSON.stringify(c.payload)}`);
      console.log('history:');
      console.table(
        events.map((event) => ({
          at: event.occurredAt.toISOString(),
          state: event.state,
          attempts: event.attempts,
          detail: event.detail ?? '',
        })),
      );
    });
}

function parseStates(text: string): string[] {
  const states = text.split(',').map((state) => state.trim());
  const unknown = states.filter((state) => !COMMAND_STATES.includes(state));
  if (unknown.length) throw new InvalidArgumentError(`unknown state ${unknown.join(', ')}; use ${COMMAND_STATES.join(', ')}`);
  return states;
}

function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description("run virtual meters for a tenant's meters through the device API")
    .option('--url <url>', 'the platform', parseUrl, `http://127.0.0.1:${process.env.PORT ?? 8080}`)
    .option('--token <token>', 'a gateway token (default: $CNMCSP_GATEWAY_TOKEN, else a gateway of --tenant for this run)')
    .option('--tenant <code>', 'with no token: add a gateway of this tenant for this run, revoked when it ends')
    .option('--interval <seconds>', 'wake-up interval of every meter, above 0 and at most 86400', decimalNumber(0, 86_400, true), 10)
    .option('--never-ack <meterNos>', 'comma-separated meters that take commands but never answer', list)
    .option('--reject <meterNo:kind,...>', `meters that reject commands of a kind: ${COMMAND_KINDS.join(', ')} or * (all)`, parseRejects)
    .option('--valve-fault <meterNos>', 'comma-separated meters whose valve is stuck', list)
    .option('--battery-drain <percent>', 'battery lost per wake-up, 0 to 100', decimalNumber(0, 100), 0.05)
    .option('--once', 'wake every meter once and exit')
    .action(async (options: SimulateOptions) => {
      const given = options.token ?? process.env.CNMCSP_GATEWAY_TOKEN;
      const gateway = given === undefined ? await addRunGateway(options.tenant) : undefined;
      try {
        await simulate(options, given ?? (gateway as RunGateway).token);
      } finally {
        if (gateway) await revokeRunGateway(gateway);
      }
    });
}

interface SimulateOptions {
  url: string;
  token?: string;
  tenant?: string;
  interval: number;
  neverAck?: string[];
  reject?: Array<{ meterNo: string; kind: string }>;
  valveFault?: string[];
  batteryDrain: number;
  once?: boolean;
}

async function simulate(options: SimulateOptions, token: string): Promise<void> {
  const simulator = new Simulator({
    url: options.url.replace(/\/$/, ''),
    token,
    intervalMs: options.interval * 1000,
    batteryDrainPerWake: options.batteryDrain,
    faults: faultsOf(options),
    logger: createLogger(loadConfig().logLevel),
  });
  const meters = await simulator.refreshMeters();
  console.log(`simulating ${meters} meter(s) against ${options.url}, waking every ${options.interval} s`);
  if (options.once) {
    console.log(JSON.stringify(await simulator.wakeUp()));
    return;
  }

  simulator.start();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await simulator.stop();
}

interface RunGateway {
  id: number;
  name: string;
  token: string;
}

/**
 * A gateway of its own for each run, so that a second `simulate --tenant` never takes the token
 * of one still running. It is revoked when the run ends; a run that is killed (SIGKILL) leaves it
 * active until `cnmcsp gateway revoke`.
 */
async function addRunGateway(tenantCode: string | undefined): Promise<RunGateway> {
  if (!tenantCode) throw new Error('give --token, set CNMCSP_GATEWAY_TOKEN, or name --tenant to add a gateway');
  const name = `simulator ${new Date().toISOString().slice(0, 19)} ${randomBytes(3).toString('hex')}`;
  return withCliDatabase(async (database) => {
    const manager = database.dataSource.manager;
    const tenant = await new Store(manager).tenants.findByCode(tenantCode);
    if (!tenant) throw new Error(`no tenant with code ${tenantCode}`);
    return { ...(await new GatewayRepository(manager).add(tenant.id, name)), name };
  });
}

async function revokeRunGateway(gateway: RunGateway): Promise<void> {
  await withCliDatabase((database) => new GatewayRepository(database.dataSource.manager).revoke(gateway.id));
  console.log(`gateway ${gateway.id} (${gateway.name}) revoked`);
}

function faultsOf(options: SimulateOptions): Record<string, MeterFaults> {
  const faults: Record<string, MeterFaults> = {};
  const fault = (meterNo: string) => (faults[meterNo] ??= {});
  for (const meterNo of options.neverAck ?? []) fault(meterNo).neverAcknowledges = true;
  for (const meterNo of options.valveFault ?? []) fault(meterNo).valveFault = true;
  for (const { meterNo, kind } of options.reject ?? []) {
    const entry = fault(meterNo);
    entry.rejects = [...(entry.rejects ?? []), kind];
  }
  return faults;
}

/** `M1:valve,M2:*`: each meter with the kind of command it refuses. */
function parseRejects(text: string): Array<{ meterNo: string; kind: string }> {
  return list(text).map((item) => {
    const match = /^([^:\s]+):([^:\s]+)$/.exec(item);
    if (!match) throw new InvalidArgumentError(`${item} is not meterNo:kind (e.g. M2:valve, M3:*)`);
    const [, meterNo, kind] = match as unknown as [string, string, string];
    if (kind !== '*' && !COMMAND_KINDS.includes(kind)) {
      throw new InvalidArgumentError(`unknown command kind ${kind}; use ${COMMAND_KINDS.join(', ')} or *`);
    }
    return { meterNo, kind };
  });
}

function parseUrl(text: string): string {
  if (/^https?:\/\/[^\s]+$/.test(text) && URL.canParse(text)) return text;
  throw new InvalidArgumentError('expected an http:// or https:// address, e.g. http://127.0.0.1:8080');
}

function list(text: string | undefined): string[] {
  return (text ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
}
