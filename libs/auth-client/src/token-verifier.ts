/**
 * Verifies the auth service's access tokens locally, with no call to the service per request:
 * RS256 signatures against the service's published keys (JWKS, fetched again when a token names
 * an unknown `kid`), issuer, expiry and not-before, the app, plus a set of revoked token ids kept
 * current by polling the service's revocation log (so a revoked token is refused within one poll
 * interval).
 *
 * Built for speed, since other services run it on every request. `verifySync` does all the work
 * for a token whose key is loaded, without a promise: each key's JWK is parsed once into a
 * KeyObject; each JOSE header is parsed once and cached with its key, and the header of the
 * previous token is recognised by comparing characters, without slicing the token; the signature
 * and the claims are decoded from base64url into one reused buffer; the signature check is one
 * `Verify` of the signed part; the claims are one `JSON.parse`. Left per call: the Verify
 * object, the claims object, the principal and a few small strings and views, small beside the
 * RSA verification itself (bench/ prints both rates). `verify` makes the same checks and, for a
 * token naming a key not loaded yet, fetches the JWKS once before deciding.
 */
import { createPublicKey, createVerify, type JsonWebKey, type KeyObject } from 'node:crypto';

export interface AuthClientOptions {
  /** Where the auth service listens, e.g. http://auth:3000. */
  baseUrl: string;
  /** Apps whose tokens this service accepts; absent: the request's `app_id` header decides. */
  appIds?: string[];
  /** Expected `iss` (the auth service's TOKEN_ISSUER); default im-auth. */
  issuer?: string;
  /** How often to poll the revocation log, ms (default 2000; revocations are seen within this). */
  revocationPollMs?: number;
  /** Least time between two JWKS fetches caused by unknown `kid`s, ms (default 1000). */
  jwksMinRefetchMs?: number;
  /** Clock skew tolerated on `exp` and `nbf`, seconds (default 5). */
  clockToleranceSeconds?: number;
  /** For tests: the fetch to use. */
  fetch?: typeof fetch;
}

/** What a verified token says. */
export interface VerifiedPrincipal {
  userId: number;
  appId: string;
  jti: string;
  expiresAt: number;
  deviceSn?: number;
  /** The real caller when the token was issued during an impersonated call (RFC 8693 `act`). */
  actor?: string;
}

export class TokenRejected extends Error {
  /** The platform's code for an invalid access-token. */
  readonly code = 10008;
  constructor(reason: string) {
    super(reason);
    this.name = 'TokenRejected';
  }
}

/**
 * Thrown by `verifySync` when the token names a key that is not loaded (yet): `verify` fetches
 * the JWKS again and decides then. Whoever does not retry can treat it as the rejection it is.
 */
export class UnknownSigningKey extends TokenRejected {
  constructor(readonly kid: string) {
    super('access-token is signed by an unknown key');
    this.name = 'UnknownSigningKey';
  }
}

/** A JOSE header already seen, by its base64url text: the key it names. */
interface KnownHeader {
  readonly part: string;
  readonly key: KeyObject;
}

interface Claims {
  iss?: unknown;
  sub?: unknown;
  app_id?: unknown;
  jti?: unknown;
  exp?: unknown;
  nbf?: unknown;
  scope?: unknown;
  device_sn?: unknown;
  act?: { sub?: unknown } | null;
}

/** Headers cached; only headers naming a loaded key are, so made-up tokens cannot fill it. */
const MAX_HEADER_CACHE = 64;
/** The reused decoding buffer grows up to this size (a token of ours decodes to about 300 bytes at most). */
const MAX_SCRATCH_BYTES = 64 * 1024;

export class TokenVerifier {
  private readonly keys = new Map<string, KeyObject>();
  private readonly headers = new Map<string, KnownHeader>();
  /** The header of the last token verified: most tokens in a row share it. */
  private lastHeader: KnownHeader | undefined;
  /** Where the header (once), the signature, then the claims of a token are decoded. */
  private scratch = Buffer.allocUnsafeSlow(1024);
  /** Revoked jti → its expiry (s), so the set can drop entries that no longer matter. */
  private readonly revoked = new Map<string, number>();
  private cursor = 0;
  private lastJwksFetch = 0;
  private jwksInFlight: Promise<void> | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly issuer: string;
  private readonly toleranceSeconds: number;
  private readonly appIds: ReadonlySet<string> | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: AuthClientOptions) {
    this.issuer = options.issuer ?? 'im-auth';
    this.toleranceSeconds = options.clockToleranceSeconds ?? 5;
    this.appIds = options.appIds && new Set(options.appIds);
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** Loads the keys and the revocation log, then keeps following the log. */
  async start(): Promise<void> {
    await Promise.all([this.fetchJwks(), this.syncRevocations()]);
    const interval = this.options.revocationPollMs ?? 2000;
    this.pollTimer = setInterval(() => {
      this.syncRevocations().catch(() => undefined); // the next poll retries; verification goes on with what it has
    }, interval);
    this.pollTimer.unref();
  }

  stop(): void {
    clearInterval(this.pollTimer);
  }

  /**
   * Verifies a token for an app; throws TokenRejected with the reason otherwise. A token of a key
   * that is not loaded makes it fetch the JWKS once (at most once per `jwksMinRefetchMs`) first.
   */
  async verify(token: string, appId: string): Promise<VerifiedPrincipal> {
    try {
      return this.verifySync(token, appId);
    } catch (error) {
      if (!(error instanceof UnknownSigningKey)) throw error;
    }
    await this.refetchJwks();
    return this.verifySync(token, appId);
  }

  /**
   * The same checks as `verify`, synchronously, with the keys loaded so far: throws TokenRejected
   * with the reason, and UnknownSigningKey (a TokenRejected) when the token names a key not loaded,
   * for which `verify` would fetch the JWKS again.
   */
  verifySync(token: string, appId: string): VerifiedPrincipal {
    const firstDot = token.indexOf('.');
    const secondDot = token.indexOf('.', firstDot + 1);
    if (firstDot <= 0 || secondDot <= firstDot + 1 || token.indexOf('.', secondDot + 1) !== -1) throw new TokenRejected('access-token is malformed');

    const key = this.keyOf(token, firstDot);
    if (!createVerify('RSA-SHA256').update(token.slice(0, secondDot)).verify(key, this.decoded(token, secondDot + 1, token.length))) {
      throw new TokenRejected('access-token signature is invalid');
    }

    let claims: Claims | null;
    try {
      claims = JSON.parse(this.decoded(token, firstDot + 1, secondDot).toString('utf8')) as Claims | null;
    } catch {
      throw new TokenRejected('access-token is malformed');
    }
    if (claims === null || typeof claims !== 'object') throw new TokenRejected('access-token is malformed');
    if (claims.iss !== this.issuer) throw new TokenRejected('access-token has another issuer');
    if (claims.scope !== undefined) throw new TokenRejected('access-token is not an access token');
    const now = Date.now() / 1000;
    const exp = claims.exp;
    if (typeof exp !== 'number' || exp + this.toleranceSeconds < now) throw new TokenRejected('access-token has expired');
    const nbf = claims.nbf;
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf - this.toleranceSeconds > now)) throw new TokenRejected('access-token is not valid yet');
    if (claims.app_id !== appId || (this.appIds !== undefined && !this.appIds.has(appId))) {
      throw new TokenRejected('access-token was issued for another app');
    }
    const jti = claims.jti;
    if (typeof jti !== 'string' || this.revoked.has(jti)) throw new TokenRejected('access-token has been revoked');
    const userId = Number(claims.sub);
    if (!Number.isSafeInteger(userId)) throw new TokenRejected('access-token is malformed');

    const principal: VerifiedPrincipal = { userId, appId, jti, expiresAt: exp };
    if (typeof claims.device_sn === 'number') principal.deviceSn = claims.device_sn;
    const actor = claims.act?.sub;
    if (typeof actor === 'string') principal.actor = actor;
    return principal;
  }

  /** Fetches what was revoked since the last poll (several pages when many). */
  async syncRevocations(): Promise<void> {
    for (;;) {
      const response = await this.fetchImpl(`${this.options.baseUrl}/token/revocations?since=${this.cursor}`);
      if (!response.ok) throw new Error(`revocation poll answered HTTP ${response.status}`);
      const body = (await response.json()) as { data?: { cursor: number; jtis: string[]; expires?: number[] } };
      const page = body.data;
      if (!page) throw new Error('revocation poll answered without data');
      const now = Date.now() / 1000;
      page.jtis.forEach((jti, i) => this.revoked.set(jti, page.expires?.[i] ?? now + 30 * 24 * 3600));
      this.cursor = page.cursor;
      if (page.jtis.length < 1000) break;
    }
    this.dropExpiredRevocations();
  }

  /**
   * The key the token's header names. The header of the previous token is recognised without
   * slicing the token; another one is looked up in the cache, or parsed (RS256 and a kid, or the
   * token is refused) and cached once its key is known.
   */
  private keyOf(token: string, headerLength: number): KeyObject {
    const last = this.lastHeader;
    if (last !== undefined && last.part.length === headerLength && token.startsWith(last.part)) return last.key;
    const part = token.slice(0, headerLength);
    let header = this.headers.get(part);
    if (header === undefined) {
      const kid = kidOf(this.decoded(token, 0, headerLength).toString('utf8'));
      const key = this.keys.get(kid);
      if (key === undefined) throw new UnknownSigningKey(kid);
      header = { part, key };
      if (this.headers.size < MAX_HEADER_CACHE) this.headers.set(part, header);
    }
    this.lastHeader = header;
    return header.key;
  }

  /**
   * token[from, to) decoded from base64url into the reused buffer (valid until the next call), or
   * TokenRejected: a JWT's parts are unpadded base64url in its one canonical spelling (RFC 7515),
   * so padding, any other character and stray trailing bits make the token malformed. (Node's
   * decoder would skip unknown characters and read one outside Latin-1 as its low byte, giving the
   * same signature many spellings.)
   */
  private decoded(token: string, from: number, to: number): Buffer {
    const needed = ((to - from) * 3) >> 2;
    if (needed > this.scratch.length) {
      // Bigger than any token of ours; kept for next time unless absurdly big.
      const bigger = Buffer.allocUnsafeSlow(needed);
      if (needed <= MAX_SCRATCH_BYTES) this.scratch = bigger;
      return this.decodedInto(bigger, token, from, to);
    }
    return this.decodedInto(this.scratch, token, from, to);
  }

  private decodedInto(out: Buffer, token: string, from: number, to: number): Buffer {
    const length = decodeBase64url(token, from, to, out);
    if (length < 0) throw new TokenRejected('access-token is malformed');
    return out.subarray(0, length);
  }

  /** After a token named an unknown key: the JWKS again, unless fetched very recently (then that fetch decides). */
  private async refetchJwks(): Promise<void> {
    if (this.jwksInFlight) return this.jwksInFlight;
    if (Date.now() - this.lastJwksFetch < (this.options.jwksMinRefetchMs ?? 1_000)) return;
    await this.fetchJwks();
  }

  /** One fetch at a time; concurrent callers share it. */
  private fetchJwks(): Promise<void> {
    this.jwksInFlight ??= (async () => {
      try {
        this.lastJwksFetch = Date.now();
        const response = await this.fetchImpl(`${this.options.baseUrl}/.well-known/jwks.json`);
        if (!response.ok) throw new Error(`JWKS answered HTTP ${response.status}`);
        const jwks = (await response.json()) as { keys: Array<JsonWebKey & { kid?: string; alg?: string }> };
        for (const jwk of jwks.keys) {
          if (jwk.kid && !this.keys.has(jwk.kid) && (jwk.alg ?? 'RS256') === 'RS256') {
            this.keys.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }));
          }
        }
      } finally {
        this.jwksInFlight = undefined;
      }
    })();
    return this.jwksInFlight;
  }

  private dropExpiredRevocations(): void {
    const now = Date.now() / 1000;
    for (const [jti, expiresAt] of this.revoked) if (expiresAt < now) this.revoked.delete(jti);
  }
}

/** The `kid` of a JOSE header (its decoded JSON text), which must say RS256; TokenRejected otherwise. */
function kidOf(headerJson: string): string {
  let parsed: { alg?: unknown; kid?: unknown } | null;
  try {
    parsed = JSON.parse(headerJson) as typeof parsed;
  } catch {
    throw new TokenRejected('access-token is malformed');
  }
  if (parsed === null || typeof parsed !== 'object' || parsed.alg !== 'RS256' || typeof parsed.kid !== 'string') {
    throw new TokenRejected('access-token is not an RS256 token with a kid');
  }
  return parsed.kid;
}

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
