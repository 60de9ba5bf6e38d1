import fs from 'node:fs';
import type { Command } from 'commander';
import { CnmcspClient, type ClientTransport } from '../client/cnmcsp-client';
import { isPlatformError } from '../domain/errors';
import { OPERATION_NAMES, type OperationName } from '../domain/operations';
import {
  encryptMessage,
  generateDisperseKey,
  isValidDisperseKey,
  parseRegistrationCode,
  verifyAndDecrypt,
} from '../security/message-crypto';

/** Where a registration code may come from instead of `--code` (a command line shows in `ps`). */
export const REGISTRATION_CODE_VARIABLE = 'CNMCSP_REGISTRATION_CODE';

/**
 * The CIS side, for integrators and for debugging (docs/client-kit.md): `cnmcsp call` runs one
 * operation against a platform the way a CIS does; `encrypt` and `decrypt` work a message by
 * hand (DECISIONS §3.3). None of them touches the database.
 */
export function registerClientCommands(program: Command): void {
  program
    .command('call <operation> <payload>')
    .description(
      'call one operation as a CIS does: encrypt the payload (a JSON file, or - for stdin), ' +
        'send it, verify and decrypt the answer, print its JSON. Exit status: 0 when ReturnCode ' +
        'is 0, 2 for any other ReturnCode, 1 when no trustworthy answer came back',
    )
    .requiredOption('--url <base>', 'platform base URL, e.g. http://127.0.0.1:8080 (or …/{tenantCode})')
    .option('--transport <transport>', 'rest or soap', 'rest')
    .option('--code <registrationCode>', `the tenant's registration code (or set ${REGISTRATION_CODE_VARIABLE})`)
    .option('--plaintext', 'send unencrypted (test tenants flagged plaintext only)', false)
    .option('--verbose', 'also print the wire values sent and received (stderr)', false)
    .action(async (operationName: string, payloadFile: string, options: CallOptions) => {
      const operation = parseOperation(operationName);
      const client = new CnmcspClient({
        baseUrl: options.url,
        transport: parseTransport(options.transport),
        registrationCode: options.plaintext ? undefined : requireCode(options.code),
      });

      const answer = await client.call(operation, readPayload(payloadFile));
      if (options.verbose) {
        process.stderr.write(`sent:     ${JSON.stringify(answer.sent)}\nreceived: ${JSON.stringify(answer.received)}\n`);
      }
      const trust = answer.verified ? 'verified' : 'not encrypted';
      process.stderr.write(`${operation}: ReturnCode ${answer.returnCode} (${trust}) ${answer.returnMessage}\n`);
      process.stdout.write(`${answer.payloadText}\n`);
      if (answer.returnCode !== 0) process.exitCode = 2;
    });

  program
    .command('encrypt <payload>')
    .description('encrypt a payload (a JSON file, or - for stdin; one trailing line break is dropped)')
    .option('--code <registrationCode>', `the registration code (or set ${REGISTRATION_CODE_VARIABLE})`)
    .option('--disperse-key <digits>', '16 digits; a fresh random one when omitted')
    .action((payloadFile: string, options: { code?: string; disperseKey?: string }) => {
      const keys = parseRegistrationCode(requireCode(options.code));
      const disperseKey = options.disperseKey ?? generateDisperseKey();
      if (!isValidDisperseKey(disperseKey)) throw new Error('--disperse-key must be exactly 16 decimal digits');

      const message = encryptMessage(keys, disperseKey, readPayload(payloadFile));
      process.stdout.write(
        `DisperseKey: ${disperseKey}\nEncryptData: ${message.encryptData}\nMacValue: ${message.macValue}\n`,
      );
    });

  program
    .command('decrypt <encryptData>')
    .description('verify the MAC of a message and print its payload')
    .option('--code <registrationCode>', `the registration code (or set ${REGISTRATION_CODE_VARIABLE})`)
    .requiredOption('--disperse-key <digits>', 'the DisperseKey that came with the message')
    .requiredOption('--mac <macValue>', 'the MacValue that came with the message')
    .action((encryptData: string, options: { code?: string; disperseKey: string; mac: string }) => {
      const keys = parseRegistrationCode(requireCode(options.code));
      try {
        process.stdout.write(`${verifyAndDecrypt(keys, options.disperseKey, encryptData, options.mac)}\n`);
      } catch (error) {
        if (!isPlatformError(error)) throw error;
        throw new Error(`${error.code} ${error.message}`);
      }
    });
}

interface CallOptions {
  url: string;
  transport: string;
  code?: string;
  plaintext: boolean;
  verbose: boolean;
}

function parseOperation(name: string): OperationName {
  const operation = OPERATION_NAMES.find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  if (!operation) throw new Error(`unknown operation ${name}; one of ${OPERATION_NAMES.join(', ')}`);
  return operation;
}

function parseTransport(value: string): ClientTransport {
  if (value === 'rest' || value === 'soap') return value;
  throw new Error(`--transport must be rest or soap, not ${value}`);
}

function requireCode(code: string | undefined): string {
  const given = code ?? process.env[REGISTRATION_CODE_VARIABLE];
  if (given === undefined || given === '') {
    throw new Error(
      `give the registration code with --code or ${REGISTRATION_CODE_VARIABLE} ` +
        '(or --plaintext for a tenant flagged plaintext)',
    );
  }
  return given;
}

/** The payload as UTF-8 text, without a BOM and without the line break an editor adds. */
function readPayload(file: string): string {
  const text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  return text.replace(/^\uFEFF/, '').replace(/\r?\n$/, '');
}
