import type { CountedKey, ReservationRule } from './throttle-policy';

/**
 * Where the login throttle's counts live: PostgreSQL by default, Redis when REDIS_URL is set.
 * A store only stores: which keys to count, and the waits, come from LoginThrottle and
 * throttle-policy.ts. Each operation is atomic over its keys and timed by the store's own clock,
 * so every instance that shares the store enforces one limit.
 */
export interface ThrottleStore {
  /**
   * Counts one attempt on every key, unless one of them must still wait: then nothing is counted
   * and the answer is the longest wait in seconds. 0 means the attempt was counted on all keys.
   */
  reserve(keys: readonly CountedKey[], rule: ReservationRule): Promise<number>;
  /** Forgets `clear` keys' counts, and takes one counted attempt back from each `giveBack` key. */
  settle(clear: readonly string[], giveBack: readonly string[]): Promise<void>;
  /** Where the counts go now, and Redis's state when it is configured (readiness, metrics). */
  status(): ThrottleStoreStatus;
}

export interface ThrottleStoreStatus {
  readonly active: 'redis' | 'postgres';
  /** Absent without REDIS_URL. */
  readonly redis?: 'up' | 'down';
}

/** The store in use, chosen once by ThrottleModule. */
export const THROTTLE_STORE = Symbol('THROTTLE_STORE');
