/**
 * The login throttle's rules, as pure functions; the stores apply them and only store.
 *
 * Every attempt to prove a password counts against two keys when it starts: the identifier it
 * names (or, for a device that has logged in before, that device) and the client's network. After
 * a number of free attempts each further one makes the key wait, doubling from one second up to a
 * cap; a waiting key refuses attempts before any hashing. A success gives its attempt back. There
 * is no permanent lockout (an attacker could use one to lock real users out), the wait is short
 * for a person who mistyped a few times, and at the default cap (15 minutes) an attacker gets
 * about a hundred guesses a day per identifier (docs/security.md has the figures).
 *
 * Why per identifier and not per account: one counter for all of a user's identifiers would let
 * an attacker learn which phone number, email, username and user id belong together (fail on one,
 * see the next one refused). The price is a budget per identifier, at most four per account.
 */
import { createHash } from 'node:crypto';
import { lookupValue, type UserLookup } from '../users/identifiers';
import type { AppEntity } from '../tenants/app.entity';

export interface ThrottleSettings {
  /** Attempts on one identifier (or known device) that may fail before it has to wait. */
  readonly accountFreeFailures: number;
  /** Attempts from one client network (across accounts: password spraying) before it has to wait. */
  readonly ipFreeFailures: number;
  /** The longest wait, in seconds. */
  readonly maxDelaySeconds: number;
  /** A key's attempts are forgotten after this long without one. */
  readonly failureResetSeconds: number;
}

/** A key to count an attempt on, and how many attempts it may fail before waiting. */
export interface CountedKey {
  readonly key: string;
  readonly freeFailures: number;
}

/**
 * What a store applies when it counts: `delays[i - 1]` seconds of waiting after the i-th attempt
 * beyond a key's free ones (the last entry for every attempt after), and when counts are forgotten.
 */
export interface ReservationRule {
  readonly delays: readonly number[];
  readonly resetSeconds: number;
}

/**
 * The key of the identifier a login names: the same whether or not a user has it (so guessing at
 * names that do not exist is throttled too, and the key tells nothing), and a different one for
 * each identifier of a user (see the file comment). Names are hashed, so a key has a fixed size.
 */
export function identifierKey(appId: string, lookup: UserLookup): string {
  // u, m, e: the kind's initial keeps a username apart from a mobile or an email spelled alike.
  return lookup.kind === 'id' ? `id:${appId}:${lookup.id}` : nameKey(appId, lookup.kind[0], String(lookupValue(lookup)));
}

/**
 * The key of a device that has logged in to the account before and proves it (its push token):
 * its attempts are counted apart from everyone else's on the identifier, so strangers' guesses
 * never lock a known device out.
 */
export function knownDeviceKey(appId: string, deviceId: number): string {
  return `device:${appId}:${deviceId}`;
}

/**
 * The client's key. `network` is the request's `RequestClient.network` (callers/client.ts): already an
 * IPv6 address's /64, so one sender cannot spread its attempts over many addresses.
 */
export function clientKey(appId: string, network: string): string {
  return `ip:${appId}:${network}`;
}

function nameKey(appId: string, kind: string, name: string): string {
  return `name:${appId}:${kind}:${createHash('sha256').update(name).digest('base64url')}`;
}

/** The waits beyond the free attempts: 1, 2, 4, ... seconds, up to `maxDelaySeconds`. */
export function reservationRule(settings: ThrottleSettings): ReservationRule {
  const delays: number[] = [];
  for (let delay = 1; delay < settings.maxDelaySeconds; delay *= 2) delays.push(delay);
  delays.push(settings.maxDelaySeconds);
  return { delays, resetSeconds: settings.failureResetSeconds };
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
