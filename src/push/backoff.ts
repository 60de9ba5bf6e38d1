/**
 * Retry delays: exponential, capped, with jitter ("equal jitter": half the delay fixed, half
 * random), so that pushes failing together do not retry in lockstep against a CIS coming back,
 * yet never retry sooner than half the nominal delay.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** The delay before attempt `failedAttempts + 1`, after `failedAttempts` (≥ 1) failures. */
export function retryDelayMs(policy: BackoffPolicy, failedAttempts: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 30);
  const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);

  return Math.round(nominal / 2 + random() * (nominal / 2));
}
