/**
 * JWTs made byte for byte, for tests of what a verifier accepts: any header and payload (objects
 * are JSON-encoded, strings taken as they are), signed RS256 with a private key or HS256 with a
 * secret, and a second spelling of a token's signature.
 */
import { createHmac, sign as signBytes, type KeyObject } from 'node:crypto';

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url of a value's JSON, or of a string as it is. */
export function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** A JWT with exactly this header and payload: RS256-signed with `key`, or HMAC-SHA256 under it when it is a string. */
export function craftJwt(header: unknown, payload: unknown, key: KeyObject | string): string {
  const signed = `${b64(header)}.${b64(payload)}`;
  const signature = typeof key === 'string' ? createHmac('sha256', key).update(signed).digest() : signBytes('sha256', Buffer.from(signed), key);
  return `${signed}.${signature.toString('base64url')}`;
}

/**
 * The token with its last character respelled: a 256-byte signature ends in a character of 4 bits
 * and 2 unused ones; with an unused bit set, it decodes to the same bytes under a lenient decoder.
 */
export function respelledSignature(token: string): string {
  return `${token.slice(0, -1)}${BASE64URL_ALPHABET[BASE64URL_ALPHABET.indexOf(token.slice(-1)) | 1]}`;
}
