/**
 * The JWS part of verifying an RS256 JWT, shared by libs/auth-client's TokenVerifier and the auth
 * service's own AccessTokenVerifier: the token's shape, its header and the key the header names
 * (through a lookup each caller gives: kid → KeyObject), the signature, and the claims as one
 * JSON object. What the claims must say (issuer, expiry, app, revocation...) and the words of a
 * refusal are each caller's own: `verify` answers the claims, or which of these checks failed.
 *
 * Strict, and built for speed:
 * - three parts, the header and claims not empty; the header and the signature unpadded
 *   base64url in their one canonical spelling (RFC 7515), so nobody without the key can respell a
 *   token: padding, any other character, and stray trailing bits make it malformed (Node's own
 *   decoder would skip unknown characters, take `+` and `/` too, read one outside Latin-1 as its
 *   low byte, and ignore trailing bits);
 * - the header must be a JSON object naming alg RS256 and a non-empty kid; an alg is never taken
 *   from the token, so an HS256 or unsigned token is refused before any key is used;
 * - the signature is checked before the claims are decoded: what it does not cover is never read.
 *   The claims are then exactly the text the key's holder signed, so Node's decoder reads them.
 *
 * Per call: the signature's characters are checked by one sticky regular expression and decoded
 * by Node into one reused buffer, then the claims into the same buffer; a header is decoded (by
 * the strict decoder below) only the first time it is seen. A header is remembered (its text → its
 * kid) once a token carrying it has verified, so only headers the signing keys really produce are
 * cached, up to MAX_HEADER_CACHE (the oldest goes first); the header of the previous token is
 * recognised by comparing characters, without slicing the token. The key is looked up by kid on
 * every call, so a key the caller drops stops verifying at once. Left per call: the Verify object
 * (measured a little cheaper than the one-shot `crypto.verify`), the claims object and a few small
 * strings, small beside the RSA verification itself (bench/ prints both rates).
 */
import { createVerify, type KeyObject } from 'node:crypto';

/**
 * Why `verify` refused a token:
 * - `malformed`: not three parts, a part not canonical unpadded base64url, the header or the
 *   claims not JSON, the claims not an object;
 * - `no-kid`: the header is not a JSON object naming a non-empty `kid`;
 * - `not-rs256`: the header's `alg` is not RS256 (its kid in `rejectedKid`);
 * - `unknown-key`: the lookup has no key for the header's kid (in `rejectedKid`);
 * - `bad-signature`: the signature does not verify with that key.
 */
export type Rs256Fault = 'malformed' | 'no-kid' | 'not-rs256' | 'unknown-key' | 'bad-signature';

/** The key of a kid, or undefined when there is none (yet). Called on every verification: keep it a map lookup. */
export type Rs256KeyLookup = (kid: string) => KeyObject | undefined;

/** The claims of a verified token: a parsed JSON object, unchecked. */
export type Rs256Claims = Readonly<Record<string, unknown>>;

/** Headers cached; only headers of tokens that verified are, so made-up tokens cannot fill it. */
const MAX_HEADER_CACHE = 64;
/** The reused decoding buffer grows up to this size (a token of ours decodes to about 300 bytes at most). */
const MAX_SCRATCH_BYTES = 64 * 1024;

export class Rs256Jws {
  /**
   * The kid of the last token refused as `not-rs256` or `unknown-key`. Read it right after the
   * refusal, before any await: the next call overwrites it.
   */
  rejectedKid = '';
  /** Header text → the kid it names, for headers of tokens that verified. */
  private readonly headers = new Map<string, string>();
  /** The header of the last token verified, and its kid: most tokens in a row share it. */
  private lastHeader = '';
  private lastKid = '';
  /** Where the header (once), the signature, then the claims of a token are decoded. */
  private scratch = Buffer.allocUnsafeSlow(1024);

  constructor(private readonly keyOf: Rs256KeyLookup) {}

  /** The token's claims when its JWS checks hold, else the first check that failed. */
  verify(token: string): Rs256Claims | Rs256Fault {
    const firstDot = token.indexOf('.');
    const secondDot = token.indexOf('.', firstDot + 1);
    if (firstDot <= 0 || secondDot <= firstDot + 1 || token.indexOf('.', secondDot + 1) !== -1) return 'malformed';

    // The header: the previous token's, a cached one, or parsed now (then `part` is set, to cache it once verified).
    let part: string | undefined;
    let kid: string;
    if (this.lastHeader.length === firstDot && token.startsWith(this.lastHeader)) {
      kid = this.lastKid;
    } else {
      part = token.slice(0, firstDot);
      const cached = this.headers.get(part);
      if (cached !== undefined) {
        kid = cached;
      } else {
        const headerBytes = this.decoded(token, 0, firstDot);
        const header = headerBytes && parseJson(headerBytes);
        if (header === undefined) return 'malformed';
        if (header === null || typeof header.kid !== 'string' || header.kid === '') return 'no-kid';
        kid = header.kid;
        if (header.alg !== 'RS256') {
          this.rejectedKid = kid;
          return 'not-rs256';
        }
      }
    }
    const key = this.keyOf(kid);
    if (key === undefined) {
      this.rejectedKid = kid;
      return 'unknown-key';
    }

    const signature = this.signature(token, secondDot + 1);
    if (signature === undefined) return 'malformed';
    if (!createVerify('RSA-SHA256').update(token.slice(0, secondDot)).verify(key, signature)) return 'bad-signature';
    if (part !== undefined) this.remember(part, kid);

    const claimsPart = token.slice(firstDot + 1, secondDot);
    const claimsBytes = this.room(claimsPart.length);
    const claims = parseJson(claimsBytes.subarray(0, claimsBytes.write(claimsPart, 0, 'base64url')));
    return claims === undefined || claims === null ? 'malformed' : claims;
  }

  /**
   * The signature, token[from...], decoded into the reused buffer (valid until the next call), or
   * undefined when it is not canonical unpadded base64url: checked here, so that Node's lenient
   * decoder only ever sees text it reads the one way.
   */
  private signature(token: string, from: number): Buffer | undefined {
    const length = token.length - from;
    const tail = length & 3;
    if (tail === 1) return undefined;
    BASE64URL_RUN.lastIndex = from;
    BASE64URL_RUN.test(token);
    if (BASE64URL_RUN.lastIndex !== token.length) return undefined;
    // The last character's unused low bits must be zero (4 of them after 2 characters, 2 after 3).
    if (tail !== 0 && (sextet(token, token.length - 1) & (tail === 2 ? 15 : 3)) !== 0) return undefined;
    const out = this.room(length);
    return out.subarray(0, out.write(token.slice(from), 0, 'base64url'));
  }

  /** A header of a token that verified: the previous token's from now on, and cached (the oldest leaves when full). */
  private remember(part: string, kid: string): void {
    this.lastHeader = part;
    this.lastKid = kid;
    if (this.headers.has(part)) return;
    if (this.headers.size >= MAX_HEADER_CACHE) this.headers.delete(this.headers.keys().next().value!);
    this.headers.set(part, kid);
  }

  /**
   * token[from, to) decoded from base64url into the reused buffer (valid until the next call), or
   * undefined when it is not canonical unpadded base64url.
   */
  private decoded(token: string, from: number, to: number): Buffer | undefined {
    const out = this.room(to - from);
    const length = decodeBase64url(token, from, to, out);
    return length < 0 ? undefined : out.subarray(0, length);
  }

  /** The reused buffer, big enough for what `characters` of base64url decode to. */
  private room(characters: number): Buffer {
    const needed = (characters * 3) >> 2;
    if (needed <= this.scratch.length) return this.scratch;
    // Bigger than any token of ours; kept for next time unless absurdly big.
    const out = Buffer.allocUnsafeSlow(needed);
    if (needed <= MAX_SCRATCH_BYTES) this.scratch = out;
    return out;
  }
}

/** The JSON object (or array) in these bytes; null for other JSON values; undefined when they are not JSON. */
function parseJson(bytes: Buffer): Record<string, unknown> | null | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : null;
}

/** A run of base64url characters, from `lastIndex`: where it stops is where the first other character is. */
const BASE64URL_RUN = /[A-Za-z0-9_-]*/y;

/** base64url character code → its 6 bits; -1 for every other code below 128. */
const BASE64URL = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) BASE64URL['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.charCodeAt(i)] = i;

function sextet(text: string, at: number): number {
  const code = text.charCodeAt(at);
  return code < 128 ? BASE64URL[code] : -1;
}

/**
 * Decodes text[from, to), unpadded base64url, into `out`: the number of bytes, or -1 when the text
 * is anything else (a character outside the alphabet, padding, an impossible length, trailing bits
 * that are not zero) or does not fit.
 */
function decodeBase64url(text: string, from: number, to: number, out: Uint8Array): number {
  const length = to - from;
  const tail = length & 3;
  if (tail === 1 || (length >> 2) * 3 + (tail === 0 ? 0 : tail - 1) > out.length) return -1;
  let written = 0;
  let at = from;
  const whole = to - tail;
  while (at < whole) {
    const a = sextet(text, at);
    const b = sextet(text, at + 1);
    const c = sextet(text, at + 2);
    const d = sextet(text, at + 3);
    if ((a | b | c | d) < 0) return -1;
    const bits = (a << 18) | (b << 12) | (c << 6) | d;
    out[written] = bits >> 16;
    out[written + 1] = (bits >> 8) & 255;
    out[written + 2] = bits & 255;
    written += 3;
    at += 4;
  }
  if (tail === 2) {
    const a = sextet(text, at);
    const b = sextet(text, at + 1);
    if ((a | b) < 0 || (b & 15) !== 0) return -1;
    out[written++] = (a << 2) | (b >> 4);
  } else if (tail === 3) {
    const a = sextet(text, at);
    const b = sextet(text, at + 1);
    const c = sextet(text, at + 2);
    if ((a | b | c) < 0 || (c & 3) !== 0) return -1;
    out[written++] = (a << 2) | (b >> 4);
    out[written++] = ((b & 15) << 4) | (c >> 2);
  }
  return written;
}
