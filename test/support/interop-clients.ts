/**
 * Third-party client programs (clients/<language>/) as the interop tests drive them: a program
 * that keeps running and answers one line per "Operation<TAB>payload" line (PHP, Python, C#,
 * gSOAP), or one process per call (curl). Also what each needs installed, checked the way
 * describeIfTools does: skipped with a warning, or a failure when CNMCSP_REQUIRE_INTEROP=1.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';

import { hasTool, isInteropRequired, REQUIRE_INTEROP_VARIABLE } from './interop';
import type { RecordedExchange } from './recording-proxy';

/** One call as the client program reported it. */
export interface ClientAnswer {
  operation: string;
  /** OpResult (SOAP) or the HTTP status (REST) as the client read it; NaN when the call failed. */
  result: number;
  /**
   * plain: the answer came in plaintext; verified: the client checked its MAC and decrypted it;
   * "refused <code>": the client's check failed; "fault <message>": the call failed.
   */
  kind: string;
  answerDisperseKey: string;
  sentDisperseKey: string;
  /** The answer's JSON: as received (plain) or as the client decrypted it (verified). */
  payload: string;
  line: string;
  /** The call's exchange, when the client ran before it was asked (a tour, startTourClient). */
  exchange?: RecordedExchange;
}

export interface InteropClient {
  call(operation: string, payload: string): Promise<ClientAnswer>;
  close(): Promise<void>;
}

/** The programs' common output: "Operation, OpResult, kind, answer key, sent key, JSON" by tabs. */
export function parseTabLine(line: string): ClientAnswer {
  const [operation = '', result = '', kind = '', answerDisperseKey = '', sentDisperseKey = '', ...rest] =
    line.split('\t');
  return {
    operation,
    result: result === '' ? Number.NaN : Number(result),
    kind,
    answerDisperseKey,
    sentDisperseKey,
    payload: rest.join('\t'),
    line,
  };
}

/** For programs that do not print the DisperseKeys (the proxy's record has them). */
const NO_KEYS = { answerDisperseKey: '', sentDisperseKey: '' };

/** clients/csharp/PlaintextCaller.cs prints "Operation|OpResult|EncryptData". */
export function parsePlaintextCallerLine(line: string): ClientAnswer {
  const [operation = '', result = '', ...rest] = line.split('|');
  return { ...NO_KEYS, operation, result: Number(result), kind: 'plain', payload: rest.join('|'), line };
}

/** clients/csharp/SampleClient.cs prints "Operation, iRet, verified|plain, answer JSON" by tabs. */
export function parseSampleClientLine(line: string): ClientAnswer {
  const [operation = '', result = '', kind = '', ...rest] = line.split('\t');
  return { ...NO_KEYS, operation, result: Number(result), kind, payload: rest.join('\t'), line };
}

const CALL_TIMEOUT_MS = 60_000;

/** A program that stays up and answers each input line with one output line. */
export function startLineClient(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; parse?: (line: string) => ClientAnswer } = {},
): InteropClient {
  const child: ChildProcessWithoutNullStreams = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', PYTHONIOENCODING: 'utf-8', ...options.env },
  });
  const parse = options.parse ?? parseTabLine;
  const waiting: Array<{ resolve(line: string): void; reject(error: Error): void }> = [];
  let stdout = '';
  let stderr = '';
  let exited: string | undefined;

  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    let newline: number;
    while ((newline = stdout.indexOf('\n')) >= 0) {
      const line = stdout.slice(0, newline).replace(/\r$/, '');
      stdout = stdout.slice(newline + 1);
      waiting.shift()?.resolve(line);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  child.on('exit', (code, signal) => {
    exited = `${command} exited (${code ?? signal}): ${stderr.slice(-2000)}`;
    for (const pending of waiting.splice(0)) pending.reject(new Error(exited));
  });
  child.on('error', (error) => {
    exited = `${command} could not run: ${error.message}`;
    for (const pending of waiting.splice(0)) pending.reject(new Error(exited));
  });

  return {
    call(operation, payload) {
      if (exited !== undefined) return Promise.reject(new Error(exited));
      return new Promise<string>((resolve, reject) => {
        const timeout = () =>
          reject(new Error(`${command}: no answer to ${operation} in ${CALL_TIMEOUT_MS} ms: ${stderr.slice(-500)}`));
        const timer = setTimeout(timeout, CALL_TIMEOUT_MS);
        waiting.push({
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        child.stdin.write(`${operation}\t${payload}\n`, 'utf8');
      }).then(parse);
    },
    close() {
      if (exited !== undefined) return Promise.resolve();
      return new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
      });
    },
  };
}

/** A program run once per call, the payload on stdin, one line on stdout. */
export function perCallClient(command: string, argsFor: (operation: string) => string[]): InteropClient {
  interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
  }
  return {
    async call(operation, payload) {
      const run = await new Promise<Run>((resolve, reject) => {
        const child = spawn(command, argsFor(operation), { env: { ...process.env, LANG: 'C.UTF-8' } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
        child.on('error', reject);
        child.on('close', (status) => resolve({ status, stdout, stderr }));
        child.stdin.end(payload, 'utf8');
      });
      if (run.status !== 0) throw new Error(`${command} exited ${run.status}: ${run.stderr}`);
      return parseTabLine(run.stdout.replace(/\r?\n$/, ''));
    },
    close: () => Promise.resolve(),
  };
}

/**
 * A program that calls every operation once, in its own order with its own payloads, and prints
 * one line per call (a sample for CIS teams, like SampleClient.cs). It runs when the lane starts;
 * each call then hands back its printed line with the request and answer the proxy kept for it.
 */
export async function startTourClient(
  run: () => Promise<string>,
  parse: (line: string) => ClientAnswer,
  takeExchanges: () => RecordedExchange[],
): Promise<InteropClient> {
  takeExchanges();
  const printed = (await run()).trimEnd().split('\n');
  const exchanges = takeExchanges().filter((exchange) => exchange.method === 'POST');
  if (exchanges.length !== printed.length) {
    throw new Error(`the program printed ${printed.length} calls but made ${exchanges.length} requests`);
  }

  const answers = new Map(printed.map((line, index) => {
    const answer = parse(line);
    return [answer.operation, { ...answer, exchange: exchanges[index] }] as const;
  }));
  return {
    call: async (operation) => {
      const answer = answers.get(operation);
      if (answer === undefined) throw new Error(`the program did not call ${operation}`);
      return answer;
    },
    close: () => Promise.resolve(),
  };
}

/** Something a client needs, with a test that says whether it is there. */
export interface Requirement {
  name: string;
  present(): boolean;
}

export const tool = (name: string): Requirement => ({ name, present: () => hasTool(name) });

export const file = (name: string, what: string): Requirement => ({
  name: `${what} (${name})`,
  present: () => existsSync(name),
});

/** Debian's Python, not whatever `python3` is first on the PATH (pyenv has no zeep). */
export const DEBIAN_PYTHON = '/usr/bin/python3';

export const debianPythonWith = (modules: string[]): Requirement => ({
  name: `${DEBIAN_PYTHON} with ${modules.join(', ')} (python3-zeep, python3-pycryptodome)`,
  present: () =>
    spawnSync(DEBIAN_PYTHON, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' }).status === 0,
});

export const phpWith = (extensions: string[]): Requirement => ({
  name: `php with ${extensions.join(', ')} (php-cli, php-soap)`,
  present: () => {
    const loaded = extensions.map((name) => `extension_loaded('${name}')`).join(' && ');
    const check = spawnSync('php', ['-r', `exit(${loaded} ? 0 : 1);`], { stdio: 'ignore' });
    return hasTool('php') && check.status === 0;
  },
});

/** The names of what is missing; empty when everything is there. */
export function missingRequirements(requirements: readonly Requirement[]): string[] {
  return requirements.filter((requirement) => !requirement.present()).map((requirement) => requirement.name);
}

/**
 * `describe` when everything is there. Otherwise skipped with a warning, or, when interop is
 * required, one failing test that names what is missing (as describeIfTools does).
 */
export function describeIfPresent(missing: readonly string[], title: string, body: () => void): void {
  if (missing.length === 0) {
    describe(title, body);
    return;
  }

  const reason = `${title}: missing ${missing.join(', ')}`;
  if (isInteropRequired()) {
    describe(title, () => {
      test(`needs ${missing.join(', ')} because ${REQUIRE_INTEROP_VARIABLE}=1`, () => {
        throw new Error(`${reason}; install what is missing or unset ${REQUIRE_INTEROP_VARIABLE}`);
      });
    });
    return;
  }

  console.warn(`Skipping ${reason} (set ${REQUIRE_INTEROP_VARIABLE}=1 to make this a failure)`);
  describe.skip(title, body);
}
