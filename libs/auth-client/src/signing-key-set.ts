/**
 * The auth service's public keys, as its JWKS publishes them now. Each fetch replaces the whole
 * set, so a key the service stops publishing (retired long enough, or revoked because it leaked)
 * stops verifying here at the next fetch; and fetches run on a schedule, the JWKS's own
 * `Cache-Control: max-age` (one minute from our service) capped by `jwksRefreshMs`, not only when a
 * token names an unknown `kid`. A failed fetch keeps the set it had and is tried again after
 * `retryMs`: an unreachable service does not empty it (the revocation log's staleness is what
 * fails closed then, token-verifier.ts).
 *
 * An unknown `kid` triggers a fetch at once (a rotation happened), at most once per
 * `minRefetchMs`, however many made-up kids arrive; concurrent callers share one fetch.
 */
import { Logger } from '@nestjs/common';
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { AuthServiceCalls } from './auth-service-calls';

export interface SigningKeySetOptions {
  /** Least time between two fetches for unknown kids, and between two scheduled ones. */
  minRefetchMs: number;
  /** Longest time between two fetches; a shorter `max-age` wins. */
  refreshMs: number;
  /** After a failed fetch, the next one. */
  retryMs: number;
}

interface LoadedKey {
  readonly key: KeyObject;
  /** The JWK's modulus and exponent, to tell whether a kid still names the same key. */
  readonly n: string;
  readonly e: string;
}

type PublishedJwk = JsonWebKey & { kid?: unknown; alg?: unknown };

/** However short the JWKS says it may be cached, no more than ten fetches a second. */
const LEAST_SCHEDULE_MS = 100;

export class SigningKeySet {
  private readonly logger = new Logger('AuthClient');
  private keys = new Map<string, LoadedKey>();
  private lastUnknownKidFetch = 0;
  private lastSuccess = 0;
  private failing = false;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly calls: AuthServiceCalls,
    private readonly options: SigningKeySetOptions,
    /** Called when a fetch leaves out keys the set had: whatever they verified must be verified again. */
    private readonly onKeysRemoved: () => void,
  ) {}

  /** The key of a kid in the set now. */
  get(kid: string): KeyObject | undefined {
    return this.keys.get(kid)?.key;
  }

  get size(): number {
    return this.keys.size;
  }

  /** When the set was last fetched successfully (ms since the epoch; 0: never). */
  get fetchedAt(): number {
    return this.lastSuccess;
  }

  /** Fetches the set now and keeps fetching it on schedule until `stop()`. */
  async start(): Promise<void> {
    this.stopped = false;
    this.lastUnknownKidFetch = Date.now(); // the first fetch answers the first unknown kids too
    await this.fetchAndSchedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * After a token named an unknown key: the JWKS again, unless a token did so very recently (then
   * that fetch decided), or a fetch is in flight (then it decides). Its own clock: scheduled
   * fetches, however frequent, must not hold off the one a rotation needs.
   */
  async refetchForUnknownKid(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (Date.now() - this.lastUnknownKidFetch < this.options.minRefetchMs) return;
    this.lastUnknownKidFetch = Date.now();
    await this.fetchAndSchedule();
  }

  /** One fetch (shared by concurrent callers); then the next one is scheduled from its outcome. */
  private fetchAndSchedule(): Promise<void> {
    this.inFlight ??= (async () => {
      let nextInMs = this.options.retryMs;
      try {
        nextInMs = await this.fetch();
        if (this.failing) this.logger.log('The JWKS answers again');
        this.failing = false;
      } catch (error) {
        if (!this.failing) this.logger.warn(`Could not fetch the JWKS, keeping the ${this.keys.size} keys it had: ${(error as Error).message}`);
        this.failing = true;
      } finally {
        this.inFlight = undefined;
      }
      if (!this.stopped) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.fetchAndSchedule(), Math.max(nextInMs, this.options.minRefetchMs, LEAST_SCHEDULE_MS));
        this.timer.unref();
      }
    })();
    return this.inFlight;
  }

  /** Fetches and replaces the set; answers when the next scheduled fetch is due (ms from now). */
  private async fetch(): Promise<number> {
    const reply = await this.calls.getRaw('/.well-known/jwks.json');
    const published = (reply.body as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(published)) throw new Error('the JWKS has no "keys" array');
    const keys = new Map<string, LoadedKey>();
    for (const jwk of published as PublishedJwk[]) {
      if (typeof jwk?.kid !== 'string' || jwk.kid === '' || (jwk.alg ?? 'RS256') !== 'RS256' || jwk.kty !== 'RSA') continue;
      const known = this.keys.get(jwk.kid);
      keys.set(jwk.kid, known && known.n === jwk.n && known.e === jwk.e ? known : { key: createPublicKey({ key: jwk, format: 'jwk' }), n: jwk.n!, e: jwk.e! });
    }
    const removed = [...this.keys].some(([kid, loaded]) => keys.get(kid) !== loaded);
    this.keys = keys;
    this.lastSuccess = Date.now();
    if (removed) this.onKeysRemoved();
    return Math.min(maxAgeMs(reply.cacheControl) ?? this.options.refreshMs, this.options.refreshMs);
  }
}

/** `max-age` of a Cache-Control header in ms; 0 for no-store and no-cache; undefined without either. */
function maxAgeMs(cacheControl: string | null): number | undefined {
  if (!cacheControl) return undefined;
  if (/(^|,)\s*no-(store|cache)\b/i.test(cacheControl)) return 0;
  const match = /(^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(cacheControl);
  return match ? Number(match[2]) * 1000 : undefined;
}
