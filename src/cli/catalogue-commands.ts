import { InvalidArgumentError, type Command } from 'commander';
import type { DataSource, EntityTarget } from 'typeorm';
import { DtuTypeEntity, MeterModelEntity, MeterProtocolEntity } from '../persistence/entities';
import { isUniqueViolation } from '../persistence/repositories/postgres-errors';
import { Store } from '../persistence/repositories/store';
import { withCliDatabase } from './cli-database';
import { shortText } from './option-parsers';

/**
 * `cnmcsp catalogue ...`: the meter models, protocols and DTU types (DECISIONS §5.2). The `add-*`
 * commands only add: a code that exists is refused, so that adding never rewrites the
 * description or the remote control of a model that meters already use.
 */
export function registerCatalogueCommands(program: Command): void {
  const catalogue = program.command('catalogue').description('manage the meter catalogue');

  catalogue
    .command('list')
    .description('list models, protocols and DTU types')
    .action(async () => {
      await withCliDatabase(async (database) => {
        const store = new Store(database.dataSource.manager);
        console.log('models:');
        console.table(await store.catalogue.listModels());
        console.log('protocols:');
        console.table(await store.catalogue.listProtocols());
        console.log('DTU types:');
        console.table(await store.catalogue.listDtuTypes());
      });
    });

  catalogue
    .command('add-model')
    .description('add a meter model (MeterParamModel); an existing code is refused')
    .argument('<code>', CODE_RULE, parseCatalogueCode)
    .option('--description <text>', 'what it is (at most 200 characters)', shortText(200), '')
    .option('--not-remote', 'the model cannot be controlled remotely (80002024)', false)
    .action(async (code: string, options: { description: string; notRemote: boolean }) => {
      const row = { code, description: options.description, remoteControllable: !options.notRemote };
      await withCliDatabase((database) => addEntry(database.dataSource, MeterModelEntity, row, 'model'));
      console.log(`model ${code} added`);
    });

  catalogue
    .command('add-protocol')
    .description('add a meter protocol (MeterProtocol); an existing code is refused')
    .argument('<code>', CODE_RULE, parseCatalogueCode)
    .option('--description <text>', 'what it is (at most 200 characters)', shortText(200), '')
    .action(async (code: string, options: { description: string }) => {
      const row = { code, description: options.description };
      await withCliDatabase((database) => addEntry(database.dataSource, MeterProtocolEntity, row, 'protocol'));
      console.log(`protocol ${code} added`);
    });

  catalogue
    .command('add-dtu-type')
    .description('add a data-collector protocol (DTUMeterType); an existing code is refused')
    .argument('<code>', CODE_RULE, parseCatalogueCode)
    .option('--description <text>', 'what it is (at most 200 characters)', shortText(200), '')
    .action(async (code: string, options: { description: string }) => {
      const row = { code, description: options.description };
      await withCliDatabase((database) => addEntry(database.dataSource, DtuTypeEntity, row, 'DTU type'));
      console.log(`DTU type ${code} added`);
    });
}

const CODE_RULE = 'its code: 1 to 50 letters, digits, "-" or "_", like CNMCPUJE, CNModbusV61 or ICJEW';

/** The shape of the seeded codes and of tenant codes; a code the CIS sends back verbatim. */
function parseCatalogueCode(text: string): string {
  if (/^[A-Za-z0-9_-]{1,50}$/.test(text)) return text;
  throw new InvalidArgumentError('a catalogue code is 1 to 50 letters, digits, "-" or "_" (no spaces)');
}

/** Inserts, never updates: the primary key refuses a code that exists, even one added meanwhile. */
async function addEntry<T extends { code: string }>(
  dataSource: DataSource,
  entity: EntityTarget<T>,
  row: T,
  what: string,
): Promise<void> {
  try {
    await dataSource.manager.insert(entity, row as never);
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    throw new Error(`the catalogue has a ${what} ${row.code} already; adding does not change it`);
  }
}
