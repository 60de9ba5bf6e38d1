import { InvalidArgumentError, Option, type Command } from 'commander';
import { TenantService } from '../services/tenant-service';
import { withCliDatabase } from './cli-database';

/** `cnmcsp tenant ...`: gas companies and how they may call the platform. */
export function registerTenantCommands(program: Command): void {
  const tenant = program.command('tenant').description('manage tenants (gas companies)');

  tenant
    .command('add')
    .description('add a tenant')
    .requiredOption('--code <code>', 'short ASCII code, used in URLs (/{code}/WSI_MIDDataServices.asmx)')
    .requiredOption('--name <name>', 'the DataFrom value, e.g. 苍南仪表集团')
    .option('--billing <mode>', 'meter (表端计费) or system (系统端计费)', parseBillingMode, 'meter' as const)
    .option('--plaintext', 'accept unencrypted requests (test servers only, spec §4)', false)
    .option('--time-zone <zone>', 'IANA time zone of the dates the CIS sends', 'Asia/Shanghai')
    .action(async (options: { code: string; name: string; billing: 'meter' | 'system'; plaintext: boolean; timeZone: string }) => {
      const created = await withCliDatabase((database) =>
        new TenantService(database.dataSource).create({
          code: options.code,
          name: options.name,
          billingMode: options.billing,
          plaintext: options.plaintext,
          timeZone: options.timeZone,
        }),
      );
      console.log(`tenant ${created.code} (${created.name}) added`);
    });

  tenant
    .command('list')
    .description('list tenants')
    .action(async () => {
      const tenants = await withCliDatabase((database) => new TenantService(database.dataSource).list());
      console.table(
        tenants.map((t) => ({
          code: t.code,
          name: t.name,
          billing: t.billingMode,
          plaintext: t.plaintext,
          timeZone: t.timeZone,
          status: t.status,
        })),
      );
    });

  tenant
    .command('set <code>')
    .description('change a tenant setting (at least one option)')
    .option('--plaintext <on|off>', 'accept unencrypted requests', parseSwitch)
    .option('--billing <mode>', 'meter or system', parseBillingMode)
    .option('--time-zone <zone>', 'IANA time zone')
    .addOption(new Option('--disable', 'refuse all its requests from now on').conflicts('enable'))
    .option('--enable', 'accept its requests again')
    .action(async (code: string, options: TenantSetOptions) => {
      const changes = {
        plaintext: options.plaintext,
        billingMode: options.billing,
        timeZone: options.timeZone,
        disabled: options.disable ? true : options.enable ? false : undefined,
      };
      if (Object.values(changes).every((value) => value === undefined)) {
        throw new Error('nothing to change: give --plaintext, --billing, --time-zone, --enable or --disable');
      }
      await withCliDatabase((database) => new TenantService(database.dataSource).update(code, changes));
      console.log(`tenant ${code} updated`);
    });
}

interface TenantSetOptions {
  plaintext?: boolean;
  billing?: 'meter' | 'system';
  timeZone?: string;
  disable?: boolean;
  enable?: boolean;
}

function parseBillingMode(value: string): 'meter' | 'system' {
  if (value === 'meter' || value === 'system') return value;
  throw new InvalidArgumentError(`--billing must be meter or system, not ${value}`);
}

function parseSwitch(value: string): boolean {
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new InvalidArgumentError(`--plaintext must be on or off, not ${value}`);
}
