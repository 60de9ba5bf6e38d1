import fs from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadConfig } from '../config/config';
import { CodeSealer } from '../security/code-sealer';
import { resolvePlatformSecret } from '../security/platform-secret';
import { MAX_OVERLAP_SECONDS, revokeTenantCodes, TenantKeyService, type IssuedCode } from '../security/tenant-keys';
import { withCliDatabase } from './cli-database';
import { parseDurationMs } from './option-parsers';

/**
 * `cnmcsp tenant issue-code | rotate-code | revoke-codes | codes`: registration codes
 * (DECISIONS §3.1; docs/security.md "Keys"). They join the `tenant` group of tenant-commands.ts,
 * so register them after it. Disabling a tenant is `tenant set <code> --disable`.
 */
export function registerKeyCommands(program: Command): void {
  const tenant = program.commands.find((command) => command.name() === 'tenant');
  if (!tenant) throw new Error('register the tenant commands before the key commands');

  tenant
    .command('issue-code <code>')
    .description("issue the tenant's first registration code and show it this once")
    .option('--stdin', "read an existing code (64 hex) from stdin instead, e.g. the vendor's earlier one", false)
    .action(async (code: string, options: { stdin: boolean }) => {
      const imported = options.stdin ? fs.readFileSync(0, 'utf8') : undefined;
      const issued = await withKeyService((keys) => keys.issue(code, imported));
      printIssued(issued);
    });

  tenant
    .command('rotate-code <code>')
    .description('issue a new registration code; the previous one keeps working for the overlap')
    .addOption(
      new Option('--overlap <duration>', 'how long the previous code keeps working: 30m, 24h, 7d, at most 30d; 0 revokes it now')
        .argParser(parseOverlap)
        .default(86_400, '24h'),
    )
    .option('--stdin', 'read the new code (64 hex) from stdin instead of generating it', false)
    .action(async (code: string, options: { overlap: number; stdin: boolean }) => {
      const imported = options.stdin ? fs.readFileSync(0, 'utf8') : undefined;
      const issued = await withKeyService((keys) => keys.rotate(code, options.overlap, imported));
      printIssued(issued);
    });

  tenant
    .command('revoke-codes <code>')
    .description('stop every registration code of the tenant at once (needs no platform secret)')
    .action(async (code: string) => {
      const count = await withCliDatabase((database) => revokeTenantCodes(database.dataSource, code));
      console.log(`${count} registration code(s) of tenant ${code} revoked`);
    });

  tenant
    .command('codes <code>')
    .description("list the tenant's registration codes (never the codes themselves)")
    .action(async (code: string) => {
      const codes = await withKeyService((keys) => keys.list(code));
      console.table(codes);
    });
}

async function withKeyService<T>(work: (keys: TenantKeyService) => Promise<T>): Promise<T> {
  const sealer = new CodeSealer(resolvePlatformSecret(loadConfig()));
  return withCliDatabase((database) => work(new TenantKeyService(database.dataSource, sealer)));
}

function printIssued(issued: IssuedCode): void {
  const { tenant, code, previousValidUntil } = issued;
  const lines = [
    `Registration code of tenant ${tenant.code} (${tenant.name}), shown this once:`,
    '',
    `  ${code}`,
    '',
    'Hand it to the gas company over a secure channel. The platform keeps it sealed and cannot show it again.',
  ];
  if (previousValidUntil) lines.push(`The previous code keeps working until ${previousValidUntil.toISOString()}.`);
  console.log(lines.join('\n'));
}

/** `--overlap`: a duration from 0 to 30 days, refused before anything is opened or stored. */
function parseOverlap(text: string): number {
  let seconds: number;
  try {
    seconds = parseDurationMs('--overlap', text) / 1000;
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  if (seconds > MAX_OVERLAP_SECONDS) throw new InvalidArgumentError('the overlap is at most 30 days (30d, 720h)');
  return seconds;
}
