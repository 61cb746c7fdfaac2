/**
 * The platform's ids are int64. Ours are issued below 2^53 so that they survive JSON numbers in
 * every client language; this file is the one place that turns wire values into ids.
 */

const DECIMAL = /^(0|[1-9][0-9]{0,18})$/;
const INT64_MAX = 9223372036854775807n;

/**
 * A user id from a body field: a JSON number or a decimal string, a positive integer below 2^53.
 * Returns undefined for anything else (fractions, negatives, 2^53 and above, non-numeric).
 */
export function parseUserId(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  }
  if (typeof value === 'string' && DECIMAL.test(value)) {
    const parsed = Number(value);
    return Number.isSafeInteger(parsed) && parsed > 0 ? parsed : undefined;
  }
  return undefined;
}

/**
 * An int64 header value (`group_id`, `user_id`): a decimal string of a positive signed 64-bit
 * integer. Kept as a string: group ids come from another service and may use the full range.
 */
export function parseInt64Header(value: string): string | undefined {
  if (!DECIMAL.test(value)) return undefined;
  const parsed = BigInt(value);
  return parsed > 0n && parsed <= INT64_MAX ? value : undefined;
}
