/**
 * Verifies the auth service's access tokens locally, with no call to the service per request:
 * RS256 signatures against the service's published keys (JWKS, fetched again when a token names
 * an unknown `kid`), issuer, expiry and app, plus a set of revoked token ids kept current by
 * polling the service's revocation log (so a revoked token is refused within one poll interval).
 *
 * Built for speed, since other services run it on every request: keys are parsed once into
 * KeyObjects, the JOSE header of each key is parsed once and cached, and the signature check is
 * one `crypto.verify` call.
 */
import { createPublicKey, verify as verifySignature, type JsonWebKey, type KeyObject } from 'node:crypto';

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
  /** Clock skew tolerated on `exp`, seconds (default 5). */
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

interface CachedHeader {
  kid: string;
}

interface Claims {
  iss?: unknown;
  sub?: unknown;
  app_id?: unknown;
  jti?: unknown;
  exp?: unknown;
  scope?: unknown;
  device_sn?: unknown;
  act?: { sub?: unknown };
}

const MAX_HEADER_CACHE = 64;

export class TokenVerifier {
  private readonly keys = new Map<string, KeyObject>();
  private readonly headers = new Map<string, CachedHeader>();
  /** Revoked jti → its expiry (s), so the set can drop entries that no longer matter. */
  private readonly revoked = new Map<string, number>();
  private cursor = 0;
  private lastJwksFetch = 0;
  private jwksInFlight: Promise<void> | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly issuer: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: AuthClientOptions) {
    this.issuer = options.issuer ?? 'im-auth';
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

  /** Verifies a token for an app; throws TokenRejected with the reason otherwise. */
  async verify(token: string, appId: string): Promise<VerifiedPrincipal> {
    const firstDot = token.indexOf('.');
    const secondDot = token.indexOf('.', firstDot + 1);
    if (firstDot <= 0 || secondDot <= firstDot + 1 || token.indexOf('.', secondDot + 1) !== -1) throw new TokenRejected('access-token is malformed');
    const headerPart = token.slice(0, firstDot);

    const header = this.headers.get(headerPart) ?? this.parseHeader(headerPart);
    let key = this.keys.get(header.kid);
    if (!key) {
      await this.refetchJwks();
      key = this.keys.get(header.kid);
      if (!key) throw new TokenRejected('access-token is signed by an unknown key');
    }
    const signature = Buffer.from(token.slice(secondDot + 1), 'base64url');
    if (!verifySignature('RSA-SHA256', Buffer.from(token.slice(0, secondDot)), key, signature)) {
      throw new TokenRejected('access-token signature is invalid');
    }

    let claims: Claims;
    try {
      claims = JSON.parse(Buffer.from(token.slice(firstDot + 1, secondDot), 'base64url').toString('utf8')) as Claims;
    } catch {
      throw new TokenRejected('access-token is malformed');
    }
    if (claims.iss !== this.issuer) throw new TokenRejected('access-token has another issuer');
    if (claims.scope !== undefined) throw new TokenRejected('access-token is not an access token');
    if (typeof claims.exp !== 'number' || claims.exp + (this.options.clockToleranceSeconds ?? 5) < Date.now() / 1000) {
      throw new TokenRejected('access-token has expired');
    }
    if (claims.app_id !== appId || (this.options.appIds && !this.options.appIds.includes(appId))) {
      throw new TokenRejected('access-token was issued for another app');
    }
    if (typeof claims.jti !== 'string' || this.revoked.has(claims.jti)) throw new TokenRejected('access-token has been revoked');
    const userId = Number(claims.sub);
    if (!Number.isSafeInteger(userId)) throw new TokenRejected('access-token is malformed');
    return {
      userId,
      appId,
      jti: claims.jti,
      expiresAt: claims.exp,
      ...(typeof claims.device_sn === 'number' ? { deviceSn: claims.device_sn } : {}),
      ...(typeof claims.act?.sub === 'string' ? { actor: claims.act.sub } : {}),
    };
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

  private parseHeader(part: string): CachedHeader {
    let parsed: { alg?: unknown; kid?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as typeof parsed;
    } catch {
      throw new TokenRejected('access-token is malformed');
    }
    if (parsed.alg !== 'RS256' || typeof parsed.kid !== 'string') throw new TokenRejected('access-token is not an RS256 token with a kid');
    const header = { kid: parsed.kid };
    if (this.headers.size < MAX_HEADER_CACHE) this.headers.set(part, header);
    return header;
  }

  private async refetchJwks(): Promise<void> {
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
