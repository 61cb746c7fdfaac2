/** PostgreSQL error codes we act on, and the checks that read them off a driver error. */
const UNIQUE_VIOLATION = '23505';

interface DriverError {
  code?: unknown;
  constraint?: unknown;
  driverError?: DriverError;
}

function driverErrorOf(error: unknown): DriverError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as DriverError;
  return candidate.driverError ?? candidate;
}

/** The violated unique constraint's name, or undefined when the error is not a unique violation. */
export function uniqueViolation(error: unknown): string | undefined {
  const driverError = driverErrorOf(error);
  if (driverError?.code !== UNIQUE_VIOLATION) return undefined;
  return typeof driverError.constraint === 'string' ? driverError.constraint : '';
}

/**
 * True when the error means the database could not be reached or did not answer in time
 * (connection refused or reset, pool timeout, server shutting down), as opposed to a bad query.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const driverError = driverErrorOf(error);
  const code = typeof driverError?.code === 'string' ? driverError.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)) return true;
  // 08xxx connection exceptions, 57P0x operator intervention (shutdown), 53xxx insufficient resources
  if (/^(08|57P0|53)/.test(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Query read timeout|Client has encountered a connection error/i.test(
    message,
  );
}
