/** Identifiers that must not be guessable or reveal how many of a thing exist. */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';

/** Ids are at least 2^40 so they never look like, or collide with, small sequential numbers. */
const MIN_USER_ID = 2 ** 40;
const MAX_USER_ID = 2 ** 53 - 1;

/** A user id: uniform over [2^40, 2^53), so walking ids finds nothing. */
export function newUserId(): number {
  // randomInt is limited to ranges below 2^48: compose two draws.
  const span = MAX_USER_ID - MIN_USER_ID;
  const high = randomInt(0, Math.floor(span / 2 ** 24) + 1);
  const low = randomInt(0, 2 ** 24);
  const id = MIN_USER_ID + high * 2 ** 24 + low;
  return id <= MAX_USER_ID ? id : newUserId();
}

const APP_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** An app id: 20 lower-case letters and digits (about 103 bits). */
export function newAppId(): string {
  let id = '';
  for (let i = 0; i < 20; i++) id += APP_ID_ALPHABET[randomInt(0, APP_ID_ALPHABET.length)];
  return id;
}

/** An opaque bearer secret with a readable prefix, e.g. `adm_…` or `psh_…`. */
export function newOpaqueToken(prefix: string, bytes = 32): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`;
}

export function newJti(): string {
  return randomUUID();
}

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a value is a UUID as PostgreSQL's uuid type reads one: the shape of every jti (newJti) and admin token id. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_SHAPE.test(value);
}
