/** PostgreSQL error codes the repositories turn into domain outcomes. */
const UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const candidate = (error as { driverError?: unknown }).driverError ?? error;
  const { code, constraint: violated } = candidate as { code?: string; constraint?: string };
  if (code !== UNIQUE_VIOLATION) return false;
  return constraint === undefined || violated === constraint;
}
