/** PostgreSQL error codes the repositories turn into domain outcomes. */
const UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const candidate = (error as { driverError?: unknown }).driverError ?? error;
  const { code, constraint: violated } = candidate as { code?: string; constraint?: string };
  if (code !== UNIQUE_VIOLATION) return false;
  return constraint === undefined || violated === constraint;
}

/** deadlock_detected and serialization_failure: the transaction was rolled back and may run again. */
const TRANSIENT_CONFLICTS = new Set(['40P01', '40001']);

export function isTransientConflict(error: unknown): boolean {
  const candidate = (error as { driverError?: unknown } | undefined)?.driverError ?? error;
  return TRANSIENT_CONFLICTS.has((candidate as { code?: string } | undefined)?.code ?? '');
}
