import type { ThrottleSettings } from './throttle-policy';

export interface ThrottleState {
  /** Seconds until the slowest of the keys may try again; 0 when none is blocked. */
  waitSeconds: number;
  /** Keys that have a live counter (so a success knows whether there is anything to reset). */
  counted: Set<string>;
}

export interface CountedKey {
  key: string;
  freeFailures: number;
}

/** Where failure counters live: PostgreSQL by default, Redis when REDIS_URL is set. */
export interface ThrottleStore {
  check(keys: string[], settings: ThrottleSettings): Promise<ThrottleState>;
  recordFailure(keys: CountedKey[], settings: ThrottleSettings): Promise<void>;
  reset(key: string): Promise<void>;
}

/** The store in use, chosen once by ThrottleModule. */
export const THROTTLE_STORE = Symbol('THROTTLE_STORE');
