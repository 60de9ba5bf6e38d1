#!/usr/bin/env node
import { Command } from 'commander';
import { registerCatalogueCommands } from './catalogue-commands';
import { registerCisReceiverCommand } from './cis-receiver-command';
import { registerClientCommands } from './client-commands';
import { registerKeyCommands } from './key-commands';
import { registerMeterLinkCommands } from './meter-link-commands';
import { registerPushCommands } from './push-commands';
import { registerTenantCommands } from './tenant-commands';

/**
 * `cnmcsp`: the operator's command line. Each group of commands lives in its own file and
 * registers itself here.
 */
const program = new Command();
program.name('cnmcsp').description('CNMCSP gas-meter platform: operator commands');

registerTenantCommands(program);
registerKeyCommands(program);
registerCatalogueCommands(program);
registerMeterLinkCommands(program);
registerClientCommands(program);
registerPushCommands(program);
registerCisReceiverCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`cnmcsp: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
