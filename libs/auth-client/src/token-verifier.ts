/**
 * Verifies the auth service's access tokens locally, with no call to the service per request:
 * RS256 signatures against the service's published keys (JWKS, fetched again when a token names
 * an unknown `kid`), issuer, expiry and not-before, the app, plus a set of revoked token ids kept
 * current by polling the service's revocation log (so a revoked token is refused within one poll
 * interval).
 *
 * Built for speed, since other services run it on every request. `verifySync` does all the work
 * for a token whose key is loaded, without a promise: each key's JWK is parsed once into a
 * KeyObject; the token's header, signature and claims go through Rs256Jws (rs256-jws.ts, shared
 * with the auth service's own verifier: headers cached, one reused decoding buffer, one `Verify`
 * of the signed part, one `JSON.parse` of the claims); the claim checks below add the principal.
 * `verify` makes the same checks and, for a token naming a key not loaded yet, fetches the JWKS
 * once before deciding.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { Rs256Jws, type Rs256Fault } from '@app/jwt';

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

export class TokenVerifier {
  private readonly keys = new Map<string, KeyObject>();
  private readonly jws = new Rs256Jws((kid) => this.keys.get(kid));
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
    const verified = this.jws.verify(token);
    if (typeof verified === 'string') throw this.rejection(verified);
    const claims = verified as Claims;
    if (claims.iss !== this.issuer) throw new TokenRejected('access-token has another issuer');
    if (claims.scope !== undefined) throw new TokenRejected('access-token is not an access token');
    const now = Date.now() / 1000;
    const exp = claims.exp;
    // Required and finite: the auth service always sets it, and 1e999 (JSON for Infinity) would never come.
    if (typeof exp !== 'number' || !Number.isFinite(exp) || exp + this.toleranceSeconds < now) throw new TokenRejected('access-token has expired');
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

  /** The refusal for a token Rs256Jws refused. */
  private rejection(fault: Rs256Fault): TokenRejected {
    switch (fault) {
      case 'unknown-key':
        return new UnknownSigningKey(this.jws.rejectedKid);
      case 'no-kid':
      case 'not-rs256':
        return new TokenRejected('access-token is not an RS256 token with a kid');
      case 'bad-signature':
        return new TokenRejected('access-token signature is invalid');
      case 'malformed':
        return new TokenRejected('access-token is malformed');
    }
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
