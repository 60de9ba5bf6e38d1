import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The platform as its own process, started the way an operator starts it (`node dist/src/main.js`),
 * for tests that must kill it (SIGKILL), restart it, or run two of them on one database.
 */
const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');
const LOCK = path.join(ROOT, 'dist/.build-lock');

export interface ChildPlatform {
  process: ChildProcess;
  url: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Compiles the project once per change; parallel test workers wait for each other. */
export async function ensureBuilt(): Promise<void> {
  while (!isBuildFresh()) {
    if (tryLock()) {
      try {
        if (!isBuildFresh()) build();
      } finally {
        fs.rmSync(LOCK, { recursive: true, force: true });
      }
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export async function startChildPlatform(environment: NodeJS.ProcessEnv): Promise<ChildPlatform> {
  await ensureBuilt();
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));

  const url = await waitForStart(child, () => output);
  return {
    process: child,
    url,
    output: () => output,
    stop: (signal = 'SIGTERM') => stopChild(child, signal),
  };
}

function waitForStart(child: ChildProcess, output: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`platform did not start within 60 s:\n${output()}`));
    }, 60_000);
    const check = () => {
      const match = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"platform started"/.exec(output());
      if (match) {
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve(match[1] as string);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`platform exited with ${code} before starting:\n${output()}`));
    });
  });
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

function isBuildFresh(): boolean {
  if (!fs.existsSync(MAIN)) return false;
  const built = fs.statSync(MAIN).mtimeMs;
  return newestSource(path.join(ROOT, 'src')) <= built;
}

function newestSource(directory: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    const time = entry.isDirectory() ? newestSource(full) : fs.statSync(full).mtimeMs;
    newest = Math.max(newest, time);
  }
  return newest;
}

function tryLock(): boolean {
  try {
    fs.mkdirSync(path.dirname(LOCK), { recursive: true });
    fs.mkdirSync(LOCK);
    return true;
  } catch {
    return false;
  }
}

function build(): void {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`build failed:\n${result.stdout}${result.stderr}`);
  // tsc leaves an unchanged file's mtime alone; mark the build as fresh explicitly.
  const now = new Date();
  fs.utimesSync(MAIN, now, now);
}
