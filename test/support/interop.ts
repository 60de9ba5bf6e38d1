/**
 * Interop tests run programs the platform does not ship (mono, a Java or PHP runtime). Where such
 * a program is missing the tests are skipped with a visible warning, except when
 * CNMCSP_REQUIRE_INTEROP=1 (set it in CI), where a missing program fails the suite instead.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const REQUIRE_INTEROP_VARIABLE = 'CNMCSP_REQUIRE_INTEROP';

/** True when an executable of that name is on the PATH. */
export function hasTool(name: string): boolean {
  const directories = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const extensions = process.platform === 'win32' ? ['.exe', '.cmd', '.bat', ''] : [''];

  return directories.some((directory) =>
    extensions.some((extension) => isExecutable(join(directory, name + extension))),
  );
}

export function isInteropRequired(): boolean {
  return process.env[REQUIRE_INTEROP_VARIABLE] === '1';
}

/**
 * `describe` when every tool is on the PATH. Otherwise the block is skipped with a warning naming
 * what is missing, or, when interop is required, replaced by one failing test that says so.
 */
export function describeIfTools(tools: readonly string[], title: string, body: () => void): void {
  const missing = tools.filter((tool) => !hasTool(tool));
  if (missing.length === 0) {
    describe(title, body);
    return;
  }

  const reason = `${title}: ${missing.join(', ')} not found on PATH`;
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

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The mono runtime occasionally dies of a native crash in its own I/O thread pool (a known class
 * of mono bug, seen on a loaded CI machine): the process ends by a signal, or mono prints its
 * crash report. That says nothing about the platform, so a test may run its scenario once more
 * from a clean start; every other failure, and a second crash, still fails the test.
 */
export class ClientRuntimeCrash extends Error {
  constructor(program: string, signal: string | null, stdout: string, stderr: string) {
    super(
      `${program} crashed (${signal ?? 'native crash report'}) after printing ${JSON.stringify(stdout)}; ` +
        `stderr begins: ${stderr.slice(0, 2000)}`,
    );
    this.name = 'ClientRuntimeCrash';
  }
}

export function isRuntimeCrash(signal: string | null, stderr: string): boolean {
  return signal !== null || /Native Crash Reporting|External Debugger Dump|Got a SIG[A-Z]+/.test(stderr);
}

/** Runs `scenario`; after a ClientRuntimeCrash, warns and runs it once more. */
export async function retryAfterRuntimeCrash<T>(scenario: () => Promise<T>): Promise<T> {
  try {
    return await scenario();
  } catch (error) {
    if (!(error instanceof ClientRuntimeCrash)) throw error;
    console.warn(`The client runtime crashed; running the scenario once more from a clean start. ${error.message}`);
    return scenario();
  }
}

/**
 * Runs a mono program to its end and returns what it printed; a crash of the runtime rejects with
 * ClientRuntimeCrash, any other failure with an Error carrying the exit code and stderr.
 */
export function runMono(args: string[], options: { cwd?: string; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('mono', args, { cwd: options.cwd, env: { ...process.env, LANG: 'C.UTF-8' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else if (isRuntimeCrash(signal, stderr)) reject(new ClientRuntimeCrash(`mono ${args[0]}`, signal, stdout, stderr));
      else reject(new Error(`mono ${args.join(' ')} exited ${code}: ${stderr}`));
    });
    child.stdin.end(options.input ?? '', 'utf8');
  });
}
