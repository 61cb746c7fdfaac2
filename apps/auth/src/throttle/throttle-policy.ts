/**
 * The login throttle's rules, as pure functions. Failed logins are counted per account and per
 * client IP; after a number of free failures each further one makes the key wait, doubling from
 * one second up to a cap. There is no permanent lockout (an attacker could use one to lock real
 * users out), the wait is short for a person who mistyped a few times, and at the default cap
 * (15 minutes) an attacker gets about a hundred guesses a day per account: NIST SP 800-63B's
 * limit of 100 consecutive failures. Counters start again after a quiet period.
 */
import { createHash } from 'node:crypto';
import type { LoginIdentifier } from '../users/identifiers';
import type { AppEntity } from '../apps/app.entity';

export interface ThrottleSettings {
  /** Failures of one account before it has to wait. */
  readonly accountFreeFailures: number;
  /** Failures from one IP (across accounts: password spraying) before it has to wait. */
  readonly ipFreeFailures: number;
  /** The longest wait, in seconds. */
  readonly maxDelaySeconds: number;
  /** A key's failures are forgotten after this long without one. */
  readonly failureResetSeconds: number;
}

export type AccountLookup = LoginIdentifier | { readonly kind: 'id'; readonly id: number };

/**
 * The account's key: the user when one matched (so the three login routes share one counter),
 * else the normalized login name (so guessing at names that do not exist is throttled too).
 */
export function accountKey(appId: string, userId: number | undefined, lookup: AccountLookup): string {
  if (userId !== undefined) return userKeyPrefix(appId) + userId;
  switch (lookup.kind) {
    case 'id':
      return userKeyPrefix(appId) + lookup.id;
    case 'username':
      return nameKey(appId, 'u', lookup.key);
    case 'mobile':
      return nameKey(appId, 'm', lookup.e164);
    case 'email':
      return nameKey(appId, 'e', lookup.address);
  }
}

/** An account key is this prefix and the user's id (a login's look-up appends the id in SQL). */
export function userKeyPrefix(appId: string): string {
  return `user:${appId}:`;
}

/** Names are whatever a client sent: hashed, so a key has a fixed size and only safe characters. */
function nameKey(appId: string, kind: string, name: string): string {
  return `name:${appId}:${kind}:${createHash('sha256').update(name).digest('base64url')}`;
}

/**
 * The client's key. `network` is the request's `RequestClient.ip` (http/client-ip.ts): already an
 * IPv6 address's /64, so one sender cannot spread its failures over many addresses.
 */
export function ipKey(appId: string, network: string): string {
  return `ip:${appId}:${network}`;
}

/** Seconds a key must wait after its n-th consecutive failure. */
export function delayAfter(failures: number, freeFailures: number, maxDelaySeconds: number): number {
  if (failures <= freeFailures) return 0;
  return Math.min(maxDelaySeconds, 2 ** Math.min(failures - freeFailures - 1, 30));
}

/** An app's throttle limits (per-app settings). */
export function throttleSettingsOf(app: AppEntity): ThrottleSettings {
  return {
    accountFreeFailures: app.loginFreeFailures,
    ipFreeFailures: app.loginIpFreeFailures,
    maxDelaySeconds: app.loginMaxDelaySeconds,
    failureResetSeconds: app.loginFailureResetSeconds,
  };
}
