import path from 'node:path';
import { z } from 'zod';
import type { LinkSettings } from '../meter-link/command-policy';

/**
 * Settings come from the environment only, validated once at start-up so that a bad value stops
 * the platform with a message that says what to fix (STYLE: fail fast).
 */
const environmentSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('data'),
  PUBLIC_URL: z.url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(32 * 1024 * 1024),
  REST_CONTENT_TYPE: z.enum(['text/html', 'application/json']).default('text/html'),
  DEMO_TENANT: z.enum(['on', 'off']).default('on'),
  PLATFORM_SECRET: z
    .string()
    .regex(/^[0-9A-Fa-f]{64}$/, 'must be 64 hexadecimal characters (32 bytes), e.g. from `openssl rand -hex 32`')
    .optional(),
  REPLAY_WINDOW_HOURS: z.coerce.number().positive().max(24 * 366).default(24),
  LINK_ACK_TIMEOUT_SECONDS: z.coerce.number().positive().max(7 * 24 * 3600).default(300),
  LINK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  LINK_SWEEP_SECONDS: z.coerce.number().positive().max(3600).default(30),
  DEMO_SIMULATOR: z.enum(['on', 'off']).default('on'),
  DEMO_SIMULATOR_INTERVAL_SECONDS: z.coerce.number().positive().max(86400).default(10),
  PUSH_WORKER: z.enum(['on', 'off']).default('on'),
  PUSH_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(250),
});

export interface PlatformConfig {
  port: number;
  host: string;
  /** Unset: the embedded PostgreSQL kept in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  publicUrl?: string;
  logLevel: string;
  bodyLimitBytes: number;
  /** DECISIONS §2.2: the spec's unified header by default, JSON if the operator prefers. */
  restContentType: 'text/html' | 'application/json';
  createDemoTenant: boolean;
  /**
   * 32 bytes, hex, sealing the stored registration codes. Unset: generated into `dataDir` on the
   * embedded database; required with DATABASE_URL (see security/platform-secret.ts).
   */
  platformSecret?: string;
  /** DECISIONS §3.7: how long a used DisperseKey is refused again. */
  replayWindowHours: number;
  /** The command queue's delivery settings (meter-link/command-policy.ts). */
  link: LinkSettings;
  /** The demo (`npm start`, embedded, demo tenant) runs simulated meters unless this is off. */
  demoSimulator: boolean;
  /** How often a demo meter wakes up and reports. */
  demoSimulatorIntervalSeconds: number;
  /** This process sends the CIS pushes of spec §6 (push/delivery-worker.ts); several may. */
  pushWorker: boolean;
  /** How often an idle push lane looks for due pushes: the latency of a fresh push. */
  pushPollIntervalMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): PlatformConfig {
  const parsed = environmentSchema.safeParse(stripEmpty(environment));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }

  const values = parsed.data;
  return {
    port: values.PORT,
    host: values.HOST,
    databaseUrl: values.DATABASE_URL,
    dataDir: path.resolve(values.DATA_DIR),
    publicUrl: values.PUBLIC_URL,
    logLevel: values.LOG_LEVEL,
    bodyLimitBytes: values.BODY_LIMIT_BYTES,
    restContentType: values.REST_CONTENT_TYPE,
    createDemoTenant: values.DEMO_TENANT === 'on',
    platformSecret: values.PLATFORM_SECRET,
    replayWindowHours: values.REPLAY_WINDOW_HOURS,
    link: {
      ackTimeoutSeconds: values.LINK_ACK_TIMEOUT_SECONDS,
      maxAttempts: values.LINK_MAX_ATTEMPTS,
      sweepIntervalSeconds: values.LINK_SWEEP_SECONDS,
    },
    demoSimulator: values.DEMO_SIMULATOR === 'on',
    demoSimulatorIntervalSeconds: values.DEMO_SIMULATOR_INTERVAL_SECONDS,
    pushWorker: values.PUSH_WORKER === 'on',
    pushPollIntervalMs: values.PUSH_POLL_INTERVAL_MS,
  };
}

/** An exported-but-empty variable (`DATABASE_URL=`) means "not set", as shells often leave it. */
function stripEmpty(environment: NodeJS.ProcessEnv): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(environment)) {
    if (value !== undefined && value !== '') result[key] = value;
  }
  return result;
}
