import type { Command } from 'commander';
import { loadConfig } from '../config/config';
import { createLogger } from '../logger';
import { CommandHistory } from '../meter-link/command-history';
import { GatewayRepository } from '../meter-link/gateway-repository';
import { Store } from '../persistence/repositories/store';
import { Simulator } from '../simulator/simulator';
import type { MeterFaults } from '../simulator/virtual-meter';
import { withCliDatabase } from './cli-database';

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

function registerGatewayCommands(program: Command): void {
  const gateway = program.command('gateway').description('gateways that report for meters (device API)');

  gateway
    .command('add')
    .description('add a gateway for a tenant and print its token (shown this once, stored hashed)')
    .requiredOption('--tenant <code>', 'the tenant whose meters it speaks for')
    .option('--name <name>', 'a name to recognise it by', `gateway-${new Date().toISOString().slice(0, 19)}`)
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
    .command('revoke <id>')
    .description('stop accepting a gateway token (within 10 s on a running platform)')
    .action(async (id: string) => {
      const revoked = await withCliDatabase((database) => new GatewayRepository(database.dataSource.manager).revoke(Number(id)));
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
    .option('--state <states>', `comma-separated: ${COMMAND_STATES.join(',')}`)
    .option('--correlation <id>', 'only the commands of this CIS request (its request id)')
    .option('--limit <n>', 'at most this many', '50')
    .action(async (options: { tenant?: string; meter?: string; state?: string; correlation?: string; limit: string }) => {
      const states = options.state?.split(',').map((state) => state.trim());
      const unknown = states?.filter((state) => !COMMAND_STATES.includes(state));
      if (unknown?.length) throw new Error(`unknown state ${unknown.join(', ')}; use ${COMMAND_STATES.join(', ')}`);
      const commands = await withCliDatabase((database) =>
        new CommandHistory(database.dataSource.manager).list({
          tenantCode: options.tenant,
          meterId: options.meter,
          states,
          correlationId: options.correlation,
          limit: Math.max(1, Number(options.limit) || 50),
        }),
      );
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
    .command('show <id>')
    .description('one command, its payload and its history')
    .action(async (id: string) => {
      if (!/^\d+$/.test(id)) throw new Error('a command id is a number (see `cnmcsp command list`)');
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

function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description("run virtual meters for a tenant's meters through the device API")
    .option('--url <url>', 'the platform', `http://127.0.0.1:${process.env.PORT ?? 8080}`)
    .option('--token <token>', 'a gateway token (default: $CNMCSP_GATEWAY_TOKEN, else a new gateway of --tenant)')
    .option('--tenant <code>', 'tenant to add a simulator gateway for when no token is given')
    .option('--interval <seconds>', 'wake-up interval of every meter', '10')
    .option('--never-ack <meterNos>', 'comma-separated meters that take commands but never answer')
    .option('--reject <meterNo:kind,...>', 'meters that reject commands of a kind (* = all)')
    .option('--valve-fault <meterNos>', 'comma-separated meters whose valve is stuck')
    .option('--battery-drain <percent>', 'battery lost per wake-up', '0.05')
    .option('--once', 'wake every meter once and exit')
    .action(async (options: SimulateOptions) => {
      const token = options.token ?? process.env.CNMCSP_GATEWAY_TOKEN ?? (await simulatorGateway(options.tenant));
      const logger = createLogger(loadConfig().logLevel);
      const simulator = new Simulator({
        url: options.url.replace(/\/$/, ''),
        token,
        intervalMs: Number(options.interval) * 1000,
        batteryDrainPerWake: Number(options.batteryDrain),
        faults: parseFaults(options),
        logger,
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
    });
}

interface SimulateOptions {
  url: string;
  token?: string;
  tenant?: string;
  interval: string;
  neverAck?: string;
  reject?: string;
  valveFault?: string;
  batteryDrain: string;
  once?: boolean;
}

async function simulatorGateway(tenantCode: string | undefined): Promise<string> {
  if (!tenantCode) throw new Error('give --token, set CNMCSP_GATEWAY_TOKEN, or name --tenant to add a gateway');
  return withCliDatabase(async (database) => {
    const manager = database.dataSource.manager;
    const tenant = await new Store(manager).tenants.findByCode(tenantCode);
    if (!tenant) throw new Error(`no tenant with code ${tenantCode}`);
    return (await new GatewayRepository(manager).rotate(tenant.id, 'simulator')).token;
  });
}

function parseFaults(options: SimulateOptions): Record<string, MeterFaults> {
  const faults: Record<string, MeterFaults> = {};
  const fault = (meterNo: string) => (faults[meterNo] ??= {});
  for (const meterNo of list(options.neverAck)) fault(meterNo).neverAcknowledges = true;
  for (const meterNo of list(options.valveFault)) fault(meterNo).valveFault = true;
  for (const item of list(options.reject)) {
    const [meterNo, kind = '*'] = item.split(':');
    const entry = fault(meterNo as string);
    entry.rejects = [...(entry.rejects ?? []), kind];
  }
  return faults;
}

function list(text: string | undefined): string[] {
  return (text ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
}
