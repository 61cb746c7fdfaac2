/**
 * The JWS part of verifying an RS256 JWT, shared by libs/auth-client's TokenVerifier and the auth
 * service's own AccessTokenVerifier: the token's shape, its header and the key the header names
 * (through a lookup each caller gives: kid → KeyObject), the signature, and the claims as one
 * JSON object. What the claims must say (issuer, expiry, app, revocation...) and the words of a
 * refusal are each caller's own: `verify` answers the claims, or which of these checks failed.
 *
 * Strict, and built for speed:
 * - three parts, the header and claims not empty; each part unpadded base64url in its one
 *   canonical spelling (RFC 7515), so a token has no second spelling: padding, any other
 *   character, and stray trailing bits make it malformed (Node's own decoder would skip unknown
 *   characters, take `+` and `/` too, read one outside Latin-1 as its low byte, and ignore
 *   trailing bits);
 * - the header must be a JSON object naming alg RS256 and a non-empty kid; an alg is never taken
 *   from the token, so an HS256 or unsigned token is refused before any key is used;
 * - the key must be an RSA key of 2048 bits or more (RFC 7518 §3.3), whatever the lookup answers;
 * - the signature is checked before the claims are decoded: what it does not cover is never read.
 *
 * Per call: the token is copied once into a reused buffer as its bytes (written as UTF-8, which
 * also tells whether it is ASCII: a token of ours is; one that is not cannot verify), whose start
 * is the signing input handed to rsa-sha256-signature.ts (RFC 8017's own check, a microsecond
 * cheaper than `crypto.verify`). The signature is decoded by Node's base64url decoder, three
 * times faster than a loop here, and held to its canonical spelling by the checks around it
 * (`canonicalSignature`); the claims, once the signature has verified, by that decoder alone: they
 * are the very text the key signed. A header is decoded only the first time it is seen, strictly,
 * and remembered (its text → its kid) once a token carrying it has verified, so only headers the
 * signing keys really produce are cached, up to MAX_HEADER_CACHE (the oldest goes first); the
 * header of the previous token is recognised by comparing characters, without slicing the token.
 * The key is looked up by kid on every call, so a key the caller drops stops verifying at once.
 * Left per call: the claims object and string, the recovered signature block, and a few views and
 * slices (bench/ prints this against `crypto.verify` alone).
 * What it costs beyond the RSA operation is mostly the claims' JSON.parse.
 */
import type { KeyObject } from 'node:crypto';
import { verifyRsaSha256 } from './rsa-sha256-signature';

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
  /** The token's bytes (one per character: it is ASCII), the signing input at their start. */
  private input = Buffer.allocUnsafeSlow(1024);
  /** Where a new header, the signature, then the claims are decoded. */
  private scratch = Buffer.allocUnsafeSlow(1024);
  /** The signing input and the signature handed to the RSA check, as views kept while their lengths repeat. */
  private readonly inputView = new PrefixView();
  private readonly signatureView = new PrefixView();

  constructor(private readonly keyOf: Rs256KeyLookup) {}

  /** The kid of the last token that verified. Read it right after `verify` answered claims. */
  get verifiedKid(): string {
    return this.lastKid;
  }

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
        const out = this.room(this.scratch, 'scratch', firstDot);
        const length = decodeText(token, 0, firstDot, out);
        const header = length < 0 ? undefined : parseJson(out, length);
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

    // Written as UTF-8 into room for four bytes more (a character's most): a character outside
    // ASCII shows as more bytes than characters (one call, where measuring first then copying took
    // two). In the signature such a character makes the token malformed; in the claims it cannot verify.
    const bytes = this.room(this.input, 'input', token.length + 4);
    if (bytes.write(token, 0, 'utf8') !== token.length) {
      return decodeText(token, secondDot + 1, token.length, this.room(this.scratch, 'scratch', token.length - secondDot)) < 0 ? 'malformed' : 'bad-signature';
    }
    const signature = this.canonicalSignature(token, secondDot + 1);
    if (signature === undefined) return 'malformed';
    if (!verifyRsaSha256(this.inputView.of(bytes, secondDot), key, signature)) return 'bad-signature';
    if (part !== undefined) this.remember(part, kid);

    // The claims are the very text the key signed, so they are canonical: Node's lenient decoder
    // reads them as the strict one would, three times faster.
    const claimsOut = this.room(this.scratch, 'scratch', secondDot - firstDot);
    const claims = parseJson(claimsOut, claimsOut.write(token.slice(firstDot + 1, secondDot), 0, 'base64url'));
    return claims === undefined || claims === null ? 'malformed' : claims;
  }

  /**
   * The signature's bytes when token[from, end) spells them in canonical unpadded base64url, else
   * undefined. Node's decoder does the decoding (three times faster than a loop here), and what it
   * would let through is refused around it: it also takes `+` and `/`, so those are looked for;
   * it skips any other character outside the alphabet and stops at `=`, which shows as fewer
   * bytes than the length promises; and it ignores the unused low bits of the last character,
   * which must be zero.
   */
  private canonicalSignature(token: string, from: number): Buffer | undefined {
    const tail = (token.length - from) & 3;
    if (tail === 1 || token.indexOf('+', from) !== -1 || token.indexOf('/', from) !== -1) return undefined;
    const last = tail === 0 ? 0 : SEXTET[token.charCodeAt(token.length - 1)] & (tail === 2 ? 0b1111 : 0b11);
    if (last !== 0) return undefined;
    const length = decodedLength(from, token.length);
    const out = this.room(this.scratch, 'scratch', length);
    return out.write(token.slice(from), 0, 'base64url') === length ? this.signatureView.of(out, length) : undefined;
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
   * One of the reused buffers, big enough for `characters` (as bytes, or as what they decode to):
   * grown for a token bigger than any of ours, and kept unless absurdly big.
   */
  private room(buffer: Buffer, name: 'input' | 'scratch', characters: number): Buffer {
    if (characters <= buffer.length) return buffer;
    const bigger = Buffer.allocUnsafeSlow(characters);
    if (characters <= MAX_SCRATCH_BYTES) this[name] = bigger;
    return bigger;
  }
}

/**
 * `buffer[0, length)` as a Buffer of its own, the last one made kept: a signature is as long as
 * the key, and tokens in a row have signing inputs of a length or two, so most calls make none.
 */
class PrefixView {
  private buffer: Buffer | undefined;
  private view: Buffer | undefined;

  of(buffer: Buffer, length: number): Buffer {
    if (this.buffer !== buffer || this.view!.length !== length) {
      this.buffer = buffer;
      this.view = buffer.subarray(0, length);
    }
    return this.view!;
  }
}

/** The JSON object (or array) in bytes[0, length); null for other JSON values; undefined when they are not JSON. */
function parseJson(bytes: Buffer, length: number): Record<string, unknown> | null | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8', 0, length));
  } catch {
    return undefined;
  }
  return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : null;
}

/** Above every sextet: marks a character outside base64url, so that one OR over four tells. */
const INVALID = 0x100;
/** Byte (or character code below 256) → its 6 bits in base64url, or INVALID. */
const SEXTET = new Uint16Array(256).fill(INVALID);
for (let i = 0; i < 64; i++) SEXTET['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.charCodeAt(i)] = i;

/**
 * Decodes text[from, to), unpadded base64url, into `out`: the number of bytes, or -1 when it is
 * anything else (a character outside the alphabet, padding, an impossible length, trailing bits
 * that are not zero) or does not fit. For a header not seen before, and for the signature of a
 * token that is not ASCII (to tell malformed from badly signed).
 */
function decodeText(text: string, from: number, to: number, out: Uint8Array): number {
  const tail = (to - from) & 3;
  if (tail === 1 || decodedLength(from, to) > out.length) return -1;
  const sextet = (at: number): number => {
    const code = text.charCodeAt(at);
    return code < 256 ? SEXTET[code] : INVALID;
  };
  let written = 0;
  let at = from;
  let seen = 0;
  for (const whole = to - tail; at < whole; at += 4) {
    const a = sextet(at);
    const b = sextet(at + 1);
    const c = sextet(at + 2);
    const d = sextet(at + 3);
    seen |= a | b | c | d;
    const bits = (a << 18) | (b << 12) | (c << 6) | d;
    out[written++] = bits >> 16;
    out[written++] = bits >> 8;
    out[written++] = bits;
  }
  if (tail === 0) return seen & INVALID ? -1 : written;
  const a = sextet(at);
  const b = sextet(at + 1);
  const c = tail === 3 ? sextet(at + 2) : 0;
  return finishTail(seen | a | b | c, a, b, c, tail, out, written);
}

function decodedLength(from: number, to: number): number {
  const tail = (to - from) & 3;
  return ((to - from) >> 2) * 3 + (tail === 0 ? 0 : tail - 1);
}

/** The last 2 or 3 characters: 1 or 2 more bytes, their unused low bits zero; -1 when anything seen was invalid. */
function finishTail(seen: number, a: number, b: number, c: number, tail: number, out: Uint8Array, written: number): number {
  if (seen & INVALID) return -1;
  if (tail === 2) {
    if ((b & 15) !== 0) return -1;
    out[written++] = (a << 2) | (b >> 4);
  } else {
    if ((c & 3) !== 0) return -1;
    out[written++] = (a << 2) | (b >> 4);
    out[written++] = ((b & 15) << 4) | (c >> 2);
  }
  return written;
}
