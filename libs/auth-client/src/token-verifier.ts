/**
 * Verifies the auth service's access tokens locally, with no call to the service per request:
 * RS256 signatures against the keys the service publishes now (signing-key-set.ts: the JWKS,
 * replaced at every fetch, fetched on its Cache-Control schedule and when a token names an unknown
 * `kid`), issuer, expiry and not-before, the app (one of `apps`), and the app's revocation log
 * (revocation-feed.ts, polled every `revocationPollMs`, so a revoked token is refused within one
 * poll interval).
 *
 * It fails closed: when an app's revocation log has not been read for `maxRevocationStalenessMs`
 * (the service unreachable, or refusing the credentials), its tokens are refused with a message
 * that says so (RevocationsStale), or, with `whenRevocationsStale: 'introspect'`, asked about one
 * by one (`verify` only); `revocationStalenessMs()` is there for a health check
 * (AuthClientHealthIndicator).
 *
 * Built for speed, since other services run it on every request. A token seen before is answered
 * from the VerifiedTokenCache (a hash-map look-up, the expiry and the staleness: no RSA); a new one
 * goes through Rs256Jws (libs/jwt, shared with the auth service: strict base64url, header cache,
 * one `Verify`, one `JSON.parse`) and the claim checks below, then into the cache. `verifySync`
 * does all that without a promise; `verify` makes the same checks and, for a token naming a key
 * not loaded yet, fetches the JWKS once before deciding.
 */
import { ErrorCatalogue } from '@app/contract';
import { Rs256Jws, VerifiedTokenCache, type Rs256Fault } from '@app/jwt';
import { AuthServiceCalls } from './auth-service-calls';
import { RevocationFeed, type AppCredentials } from './revocation-feed';
import { SigningKeySet } from './signing-key-set';

export type { AppCredentials } from './revocation-feed';

export interface AuthClientOptions {
  /** Where the auth service listens, e.g. http://auth:3000. */
  baseUrl: string;
  /**
   * The apps whose tokens this service accepts, each with a verifier token of it (an admin token
   * works too, but can do far more). Tokens of any other app are refused.
   */
  apps: readonly AppCredentials[];
  /** Expected `iss` (the auth service's TOKEN_ISSUER); default im-auth. */
  issuer?: string;
  /** How often to poll each app's revocation log, ms (default 2000; revocations are seen within this). */
  revocationPollMs?: number;
  /** Past this long without reading an app's revocation log, its tokens are refused (or introspected), ms (default 30 000). */
  maxRevocationStalenessMs?: number;
  /** What to do with an app's tokens past `maxRevocationStalenessMs`: refuse them (default), or ask POST /token/introspect about each. */
  whenRevocationsStale?: 'refuse' | 'introspect';
  /** Least time between two JWKS fetches, ms (default 1000). */
  jwksMinRefetchMs?: number;
  /** Longest time between two JWKS fetches, ms (default 300 000); the JWKS's shorter Cache-Control max-age wins. */
  jwksRefreshMs?: number;
  /** Clock skew tolerated on `exp` and `nbf`, seconds (default 5). */
  clockToleranceSeconds?: number;
  /** Verified tokens remembered (default 10 000, a few MB; 0: none). */
  verifiedTokenCacheSize?: number;
  /** Longest wait for any call to the auth service, ms (default 5000). */
  requestTimeoutMs?: number;
  /** For tests: the fetch to use. */
  fetch?: typeof fetch;
}

/** What a verified token says. */
export interface VerifiedPrincipal {
  readonly userId: number;
  readonly appId: string;
  readonly jti: string;
  readonly expiresAt: number;
  readonly deviceSn?: number;
  /** The real caller when the token was issued during an impersonated call (RFC 8693 `act`). */
  readonly actor?: string;
}

const INVALID = ErrorCatalogue.ACCESS_TOKEN_INVALID;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A token this service must not accept: 10008 (the catalogue's ACCESS_TOKEN_INVALID), with the reason. */
export class TokenRejected extends Error {
  readonly code: number = INVALID.code;
  readonly status: number = INVALID.status;
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

/**
 * An otherwise valid token of an app whose revocation log is too old to vouch for it. `verify`
 * introspects it instead when so configured; whoever does not can treat it as the rejection it is.
 */
export class RevocationsStale extends TokenRejected {
  constructor(readonly stalenessMs: number, maxStalenessMs: number) {
    super(
      `access-token cannot be checked for revocation: the auth service's revocation log ${
        stalenessMs === Infinity ? 'has not been read yet' : `was last read ${Math.round(stalenessMs / 1000)} s ago`
      } (more than ${Math.round(maxStalenessMs / 1000)} s is refused)`,
    );
    this.name = 'RevocationsStale';
  }
}

/** A token that verified: its principal, until when it is accepted (ms since the epoch: its `exp` plus the clock tolerance). */
interface CachedVerdict {
  readonly token: string;
  readonly principal: VerifiedPrincipal;
  readonly validUntilMs: number;
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

/** What POST /token/introspect answers about an active token. */
interface Introspected {
  active: boolean;
  user_id?: number;
  app_id?: string;
  jti?: string;
  exp?: number;
  device_sn?: number;
  act?: { sub?: string };
}

export class TokenVerifier {
  private readonly calls: AuthServiceCalls;
  private readonly keys: SigningKeySet;
  private readonly revocations: RevocationFeed;
  private readonly cache: VerifiedTokenCache<CachedVerdict>;
  private readonly jws: Rs256Jws;
  private readonly issuer: string;
  private readonly toleranceSeconds: number;
  private readonly maxStalenessMs: number;
  private readonly introspectWhenStale: boolean;

  constructor(options: AuthClientOptions) {
    // Misconfigured, it would refuse every token: say so at start-up instead.
    if (options.apps.length === 0) throw new Error('AuthClientOptions.apps names no app: every token would be refused');
    this.issuer = options.issuer ?? 'im-auth';
    this.toleranceSeconds = options.clockToleranceSeconds ?? 5;
    this.maxStalenessMs = options.maxRevocationStalenessMs ?? 30_000;
    this.introspectWhenStale = options.whenRevocationsStale === 'introspect';
    const pollMs = options.revocationPollMs ?? 2000;
    this.calls = new AuthServiceCalls({ baseUrl: options.baseUrl, timeoutMs: options.requestTimeoutMs ?? 5000, fetch: options.fetch ?? fetch });
    this.cache = new VerifiedTokenCache<CachedVerdict>(options.verifiedTokenCacheSize ?? 10_000);
    const jwksRefreshMs = options.jwksRefreshMs ?? 300_000;
    this.keys = new SigningKeySet(
      this.calls,
      { minRefetchMs: options.jwksMinRefetchMs ?? 1000, refreshMs: jwksRefreshMs, retryMs: Math.min(pollMs, jwksRefreshMs) },
      () => this.cache.clear(),
    );
    this.revocations = new RevocationFeed(this.calls, options.apps, pollMs, this.toleranceSeconds, (jtis) =>
      this.cache.evict((verdict) => jtis.has(verdict.principal.jti)),
    );
    this.jws = new Rs256Jws((kid) => this.keys.get(kid));
  }

  /**
   * Loads the keys and every app's revocation log, then keeps following both. Never throws: an
   * auth service that cannot be reached shows as refused tokens and in `revocationStalenessMs()`,
   * and both are tried again on schedule.
   */
  async start(): Promise<void> {
    await Promise.all([this.keys.start(), this.revocations.start()]);
  }

  stop(): void {
    this.keys.stop();
    this.revocations.stop();
  }

  /**
   * Verifies a token for an app; throws TokenRejected with the reason otherwise. A token of a key
   * that is not loaded makes it fetch the JWKS once (at most once per `jwksMinRefetchMs`) first;
   * a token of an app whose revocation log is stale is introspected when so configured.
   */
  async verify(token: string, appId: string): Promise<VerifiedPrincipal> {
    let refetched = false;
    for (;;) {
      try {
        return this.verifySync(token, appId);
      } catch (error) {
        if (error instanceof UnknownSigningKey && !refetched) {
          refetched = true;
          await this.keys.refetchForUnknownKid();
          continue;
        }
        if (error instanceof RevocationsStale && this.introspectWhenStale) return this.introspect(token, appId, error);
        throw error;
      }
    }
  }

  /**
   * The same checks as `verify`, synchronously, with the keys loaded so far: throws TokenRejected
   * with the reason, UnknownSigningKey (a TokenRejected) when the token names a key not loaded,
   * for which `verify` would fetch the JWKS again, and RevocationsStale (a TokenRejected) when the
   * app's revocation log is stale, for which `verify` may introspect.
   */
  verifySync(token: string, appId: string): VerifiedPrincipal {
    const now = Date.now();
    const cached = this.cache.get(token);
    if (cached !== undefined) {
      if (cached.principal.appId === appId && now <= cached.validUntilMs) {
        this.assertFresh(appId, now);
        return cached.principal;
      }
      if (now > cached.validUntilMs) this.cache.delete(token);
    }

    const verified = this.jws.verify(token);
    if (typeof verified === 'string') throw this.rejection(verified);
    const claims = verified as Claims;
    if (claims.iss !== this.issuer) throw new TokenRejected('access-token has another issuer');
    if (claims.scope !== undefined) throw new TokenRejected('access-token is not an access token');
    const seconds = now / 1000;
    const exp = claims.exp;
    // Required and finite: the auth service always sets it, and 1e999 (JSON for Infinity) would never come.
    if (typeof exp !== 'number' || !Number.isFinite(exp) || exp + this.toleranceSeconds < seconds) throw new TokenRejected('access-token has expired');
    const nbf = claims.nbf;
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf - this.toleranceSeconds > seconds)) throw new TokenRejected('access-token is not valid yet');
    if (claims.app_id !== appId || !this.revocations.accepts(appId)) throw new TokenRejected('access-token was issued for another app');
    const jti = claims.jti;
    if (typeof jti !== 'string' || this.revocations.isRevoked(jti)) throw new TokenRejected('access-token has been revoked');
    const userId = Number(claims.sub);
    if (!Number.isSafeInteger(userId)) throw new TokenRejected('access-token is malformed');
    const principal: Mutable<VerifiedPrincipal> = { userId, appId, jti, expiresAt: exp };
    if (typeof claims.device_sn === 'number') principal.deviceSn = claims.device_sn;
    const actor = claims.act?.sub;
    if (typeof actor === 'string') principal.actor = actor;
    // Frozen: the same object answers every later request with this token.
    Object.freeze(principal);
    this.cache.set({ token, principal, validUntilMs: (exp + this.toleranceSeconds) * 1000 });
    this.assertFresh(appId, now);
    return principal;
  }

  /** Reads every app's revocation log up to its end now (several pages when many); throws the first failure. */
  syncRevocations(): Promise<void> {
    return this.revocations.sync();
  }

  /** How long ago the stalest app's revocation log was last read completely, ms (Infinity: never). */
  revocationStalenessMs(): number {
    return this.revocations.maxStalenessMs();
  }

  /** What a health check reports. */
  health(): { revocationStalenessMs: number; maxRevocationStalenessMs: number; stale: boolean; introspectsWhenStale: boolean; keys: number; jwksFetchedAt: number } {
    const revocationStalenessMs = this.revocationStalenessMs();
    return {
      revocationStalenessMs,
      maxRevocationStalenessMs: this.maxStalenessMs,
      stale: revocationStalenessMs > this.maxStalenessMs,
      introspectsWhenStale: this.introspectWhenStale,
      keys: this.keys.size,
      jwksFetchedAt: this.keys.fetchedAt,
    };
  }

  /** Refuses an otherwise valid token when its app's revocation log is too old to vouch for it. */
  private assertFresh(appId: string, now: number): void {
    const staleness = this.revocations.stalenessMs(appId, now);
    if (staleness > this.maxStalenessMs) throw new RevocationsStale(staleness, this.maxStalenessMs);
  }

  /** Past the staleness bound: the auth service itself decides (its session table is current). */
  private async introspect(token: string, appId: string, stale: RevocationsStale): Promise<VerifiedPrincipal> {
    const credentials = this.revocations.credentialsOf(appId)!;
    let reply: Introspected;
    try {
      reply = await this.calls.call<Introspected>('/token/introspect', {
        method: 'POST',
        headers: { app_id: appId, 'access-token': credentials.token },
        body: { token },
      });
    } catch (error) {
      throw new TokenRejected(`${stale.message}, and introspection failed: ${(error as Error).message}`);
    }
    if (!reply.active || typeof reply.user_id !== 'number' || typeof reply.jti !== 'string' || typeof reply.exp !== 'number') {
      throw new TokenRejected('access-token is not active, says introspection (the revocation log is stale)');
    }
    return Object.freeze({
      userId: reply.user_id,
      appId,
      jti: reply.jti,
      expiresAt: reply.exp,
      ...(typeof reply.device_sn === 'number' ? { deviceSn: reply.device_sn } : {}),
      ...(typeof reply.act?.sub === 'string' ? { actor: reply.act.sub } : {}),
    });
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
}
