import type { Command } from 'commander';
import { Store } from '../persistence/repositories/store';
import { withCliDatabase } from './cli-database';

/** `cnmcsp catalogue ...`: the meter models, protocols and DTU types (DECISIONS §5.2). */
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
    .command('add-model <code>')
    .description('add or update a meter model (MeterParamModel)')
    .option('--description <text>', 'what it is', '')
    .option('--not-remote', 'the model cannot be controlled remotely (80002024)', false)
    .action(async (code: string, options: { description: string; notRemote: boolean }) => {
      await withCliDatabase((database) =>
        new Store(database.dataSource.manager).catalogue.saveModel({
          code,
          description: options.description,
          remoteControllable: !options.notRemote,
        }),
      );
      console.log(`model ${code} saved`);
    });

  catalogue
    .command('add-protocol <code>')
    .description('add or update a meter protocol (MeterProtocol)')
    .option('--description <text>', 'what it is', '')
    .action(async (code: string, options: { description: string }) => {
      await withCliDatabase((database) =>
        new Store(database.dataSource.manager).catalogue.saveProtocol({ code, description: options.description }),
      );
      console.log(`protocol ${code} saved`);
    });

  catalogue
    .command('add-dtu-type <code>')
    .description('add or update a data-collector protocol (DTUMeterType)')
    .option('--description <text>', 'what it is', '')
    .action(async (code: string, options: { description: string }) => {
      await withCliDatabase((database) =>
        new Store(database.dataSource.manager).catalogue.saveDtuType({ code, description: options.description }),
      );
      console.log(`DTU type ${code} saved`);
    });
}
