import { spawn } from 'node:child_process';
import path from 'node:path';
import { ensureBuilt } from './child-platform';

const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the operator's `cnmcsp` command as a process, the way an operator does. With `timeoutMs`,
 * a command still running then is ended (SIGTERM): for one that would otherwise serve forever.
 */
export async function runCli(
  args: string[],
  environment: NodeJS.ProcessEnv = {},
  options: { timeoutMs?: number } = {},
): Promise<CliResult> {
  await ensureBuilt();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'warn', ...environment },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), options.timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
