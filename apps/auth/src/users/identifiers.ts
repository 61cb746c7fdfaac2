/**
 * The rules for a user's identifiers, as pure functions (no Nest, no database).
 *
 * - username: the platform's rule (ASCII letters, digits, underscore, CJK ideographs; not all
 *   digits), at most 64 characters, never `@`; NFKC-normalized first (so full-width letters count
 *   as ASCII), compared case-insensitively through its key. Restricting letters to ASCII and Han
 *   also rules out mixed-script look-alikes (a Cyrillic "а" inside a Latin name).
 * - email: lower-cased whole, NFKC-normalized.
 * - mobile: a valid number for libphonenumber, stored in E.164; numbers without a country code
 *   are read in the app's default region (none: the "+" form is required).
 * A login name is classified by shape: `@` means email, a valid phone number means mobile,
 * anything else is a username.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

export const USERNAME_MAX_LENGTH = 64;
export const EMAIL_MAX_LENGTH = 254;

const USERNAME_SHAPE = /^[A-Za-z0-9_\p{Script=Han}]+$/u;
const ALL_DIGITS = /^[0-9]+$/;
const EMAIL_SHAPE = /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u;

/** How a request names one user: by id, or by an identifier as normalized here. The one spelling of a look-up. */
export type UserLookup =
  | { readonly kind: 'id'; readonly id: number }
  | { readonly kind: 'username'; readonly key: string }
  | { readonly kind: 'mobile'; readonly e164: string }
  | { readonly kind: 'email'; readonly address: string };

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface NormalizedUsername {
  /** As it will be shown (NFKC). */
  readonly username: string;
  /** What uniqueness and look-ups compare: NFKC, lower-cased. */
  readonly key: string;
}

export function checkUsername(raw: string, reservedPrefixes: readonly string[]): Checked<NormalizedUsername> {
  const username = raw.normalize('NFKC');
  if (username.length === 0) return { ok: false, reason: 'username must not be empty' };
  if ([...username].length > USERNAME_MAX_LENGTH) {
    return { ok: false, reason: `username must be at most ${USERNAME_MAX_LENGTH} characters` };
  }
  if (username.includes('@')) return { ok: false, reason: 'username must not contain @' };
  if (!USERNAME_SHAPE.test(username)) {
    return { ok: false, reason: 'username may contain only letters, digits, underscore and CJK ideographs' };
  }
  if (ALL_DIGITS.test(username)) return { ok: false, reason: 'username must not be all digits' };
  const key = usernameKey(username);
  const reserved = reservedPrefixes.find((prefix) => prefix && key.startsWith(prefix.normalize('NFKC').toLowerCase()));
  if (reserved !== undefined) return { ok: false, reason: `username must not start with "${reserved}"` };
  return { ok: true, value: { username, key } };
}

export function usernameKey(raw: string): string {
  return raw.normalize('NFKC').toLowerCase();
}

export function checkEmail(raw: string): Checked<string> {
  const address = raw.normalize('NFKC').trim().toLowerCase();
  if (address.length > EMAIL_MAX_LENGTH || !EMAIL_SHAPE.test(address)) {
    return { ok: false, reason: 'email is not a valid email address' };
  }
  return { ok: true, value: address };
}

export function checkMobile(raw: string, defaultRegion: string | null): Checked<string> {
  const e164 = toE164(raw, defaultRegion);
  return e164 === undefined
    ? { ok: false, reason: 'mobile is not a valid phone number (use the +country form)' }
    : { ok: true, value: e164 };
}

/** What a look-up compares with the user's column: the id, or the identifier as stored. */
export function lookupValue(lookup: UserLookup): string | number {
  return lookup.kind === 'id' ? lookup.id : lookup.kind === 'username' ? lookup.key : lookup.kind === 'mobile' ? lookup.e164 : lookup.address;
}

export function classifyLoginName(raw: string, defaultRegion: string | null): UserLookup {
  const name = raw.normalize('NFKC').trim();
  if (name.includes('@')) return { kind: 'email', address: name.toLowerCase() };
  const e164 = toE164(name, defaultRegion);
  if (e164 !== undefined) return { kind: 'mobile', e164 };
  return { kind: 'username', key: usernameKey(name) };
}

function toE164(raw: string, defaultRegion: string | null): string | undefined {
  const text = raw.normalize('NFKC').trim();
  // A phone number has digits and little else; this keeps usernames away from the parser.
  if (!/^\+?[0-9 ()./-]{4,32}$/.test(text)) return undefined;
  const phone = parsePhoneNumberFromString(text, {
    defaultCountry: (defaultRegion ?? undefined) as CountryCode | undefined,
    extract: false,
  });
  return phone?.isValid() ? phone.number : undefined;
}
