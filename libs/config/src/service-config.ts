/**
 * The service's configuration: read from the environment once, validated at start-up, and handed
 * to everything else through `SERVICE_CONFIG`. Nothing else in the code base reads `process.env`.
 * A bad value stops the start with one line per variable, naming it and saying what it accepts.
 */
import { resolve } from 'node:path';

export type ErrorHttpStatusMode = 'mirror' | 'always-200';

export interface Argon2Parameters {
  /** Memory in KiB. */
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

export interface ServiceConfig {
  readonly nodeEnv: string;
  readonly host: string;
  readonly port: number;
  /** Absent: the embedded PostgreSQL under `dataDir` is used. */
  readonly databaseUrl: string | undefined;
  /** The embedded database, master.key (without MASTER_KEY) and the demo's secrets: kept mode 0700. */
  readonly dataDir: string;
  /** Under NODE_ENV=production the embedded database is refused unless this says it is meant. */
  readonly allowEmbeddedDb: boolean;
  readonly dbPoolSize: number;
  /** Milliseconds a query or connection attempt may take before the request fails with 20000. */
  readonly dbTimeoutMs: number;
  /** `always-200` (the default): business errors answer HTTP 200, the code in the body; `mirror`: the error's HTTP status. */
  readonly errorHttpStatus: ErrorHttpStatusMode;
  /** 32 bytes that encrypt private keys at rest; absent: kept in `dataDir/master.key`. */
  readonly masterKey: Buffer | undefined;
  readonly tokenIssuer: string;
  readonly storeTokenTtlSeconds: number;
  /**
   * How long a session is kept after its token expired, in days: until then the expired token is
   * answered 402 (log in again), after it 10008, and the row is purged.
   */
  readonly sessionRetentionDays: number;
  /** Key that `access_key_secret` is derived under; absent: derived from the master key. */
  readonly fileStoreSecret: Buffer | undefined;
  readonly argon2: Argon2Parameters;
  /** Hashing jobs that may wait per hashing worker (one per core); beyond, new ones are refused with 503. */
  readonly hashingQueuePerWorker: number;
  /** Longest password accepted anywhere, in characters; longer ones are refused before hashing. */
  readonly passwordMaxLength: number;
  readonly bodyLimitBytes: number;
  /**
   * Create the demo app (open registration, an admin token in a file) on a first start. Only the
   * local default seeds it unless asked: the embedded database, outside production; never in production.
   */
  readonly seedDemo: boolean;
  /**
   * Proxies whose X-Forwarded-For is believed when finding a client's IP (addresses or CIDR
   * ranges, as Fastify's `trustProxy` takes them); empty: the socket's address is the client.
   */
  readonly trustedProxies: string[];
  /** Origins allowed by CORS; empty: no cross-origin browser calls. */
  readonly corsOrigins: string[];
  /** Redis for the login throttle's counters; absent: they live in PostgreSQL. */
  readonly redisUrl: string | undefined;
  /**
   * Milliseconds a Redis command may take before the throttle falls back to PostgreSQL (a Redis
   * that accepts connections but does not answer must not hold logins).
   */
  readonly redisTimeoutMs: number;
  /** Milliseconds between runs of each background task (apps/auth/src/scheduler; .env.example says what each does). */
  readonly intervals: {
    readonly throttlePurgeMs: number;
    readonly revocationPurgeMs: number;
    readonly sessionPurgeMs: number;
    readonly signingKeysRefreshMs: number;
    readonly redisProbeMs: number;
  };
  readonly logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose';
  /** Serve Prometheus metrics at GET /metrics (no app_id, no token: restrict it at the proxy). */
  readonly metricsEnabled: boolean;
  /** The URLs `GET /app_dns` hands the platform's SDKs: this service's, and the IM socket and RTC servers'. */
  readonly sdkDiscovery: SdkDiscoveryUrls;
}

export interface SdkDiscoveryUrls {
  /** Where clients reach this service (`ratel`); unset: http://localhost:PORT. No trailing slash. */
  readonly publicUrl: string;
  /** The IM socket servers (`webim`) and RTC servers (`rtc`): other services, none by default. */
  readonly webimUrls: string[];
  readonly rtcUrls: string[];
}

export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadServiceConfig(env: Env = process.env): ServiceConfig {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);
  const port = read.integer('PORT', 3000, 0, 65535);

  const config: ServiceConfig = {
    nodeEnv: read.string('NODE_ENV', 'development'),
    host: read.string('HOST', '0.0.0.0'),
    port,
    databaseUrl: read.optionalUrl('DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: resolve(read.string('DATA_DIR', './data')),
    allowEmbeddedDb: read.boolean('ALLOW_EMBEDDED_DB', false),
    dbPoolSize: read.integer('DB_POOL_SIZE', 10, 1, 1000),
    dbTimeoutMs: read.integer('DB_TIMEOUT_MS', 5000, 100, 600000),
    // The platform's convention by default: its client SDKs treat any non-2xx reply as a transport failure.
    errorHttpStatus: read.oneOf('ERROR_HTTP_STATUS', { mirror: 'mirror', '200': 'always-200' }, 'always-200'),
    masterKey: read.optionalKey('MASTER_KEY'),
    tokenIssuer: read.string('TOKEN_ISSUER', 'im-auth'),
    storeTokenTtlSeconds: read.integer('STORE_TOKEN_TTL_SECONDS', 3600, 60, 7 * 24 * 3600),
    sessionRetentionDays: read.integer('SESSION_RETENTION_DAYS', 30, 1, 3650),
    fileStoreSecret: read.optionalKey('FILE_STORE_SECRET'),
    argon2: {
      memoryCost: read.integer('ARGON2_MEMORY_KIB', 19456, 1024, 4 * 1024 * 1024),
      timeCost: read.integer('ARGON2_TIME_COST', 2, 1, 100),
      parallelism: read.integer('ARGON2_PARALLELISM', 1, 1, 64),
    },
    hashingQueuePerWorker: read.integer('HASHING_QUEUE_PER_WORKER', 64, 1, 100000),
    passwordMaxLength: read.integer('PASSWORD_MAX_LENGTH', 256, 8, 4096),
    bodyLimitBytes: read.integer('BODY_LIMIT_BYTES', 16384, 1024, 10 * 1024 * 1024),
    seedDemo: false, // below: its default depends on NODE_ENV and DATABASE_URL
    trustedProxies: read.list('TRUSTED_PROXIES'),
    corsOrigins: read.list('CORS_ORIGINS'),
    redisUrl: read.optionalUrl('REDIS_URL', ['redis:', 'rediss:']),
    redisTimeoutMs: read.integer('REDIS_TIMEOUT_MS', 300, 20, 10000),
    intervals: {
      throttlePurgeMs: read.integer('THROTTLE_PURGE_INTERVAL_MS', 600_000, 1000, 86_400_000),
      revocationPurgeMs: read.integer('REVOCATION_PURGE_INTERVAL_MS', 600_000, 1000, 86_400_000),
      sessionPurgeMs: read.integer('SESSION_PURGE_INTERVAL_MS', 600_000, 1000, 86_400_000),
      // At most a minute: a rotation's margins (signing-keys.service.ts) count on every instance hearing of it within one.
      signingKeysRefreshMs: read.integer('SIGNING_KEYS_REFRESH_INTERVAL_MS', 30_000, 1000, 60_000),
      redisProbeMs: read.integer('REDIS_PROBE_INTERVAL_MS', 1000, 100, 60_000),
    },
    logLevel: read.oneOf(
      'LOG_LEVEL',
      { error: 'error', warn: 'warn', log: 'log', info: 'log', debug: 'debug', verbose: 'verbose' },
      'log',
    ),
    metricsEnabled: read.boolean('METRICS_ENABLED', true),
    sdkDiscovery: {
      publicUrl: read.httpUrls('PUBLIC_URL', 1)[0] ?? `http://localhost:${port}`,
      webimUrls: read.httpUrls('WEBIM_URLS'),
      rtcUrls: read.httpUrls('RTC_URLS'),
    },
  };

  const production = config.nodeEnv === 'production';
  if (production && config.databaseUrl === undefined && !config.allowEmbeddedDb) {
    problems.push('DATABASE_URL is required when NODE_ENV=production (or set ALLOW_EMBEDDED_DB=true to keep the data in the embedded database under DATA_DIR)');
  }
  const seedDemo = read.boolean('SEED_DEMO', config.databaseUrl === undefined && !production);
  if (production && seedDemo) problems.push('SEED_DEMO=true is refused when NODE_ENV=production: the demo app has open registration and an admin token in a file');

  if (problems.length > 0) throw new ConfigError(problems);
  return { ...config, seedDemo };
}

class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = /^-?\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      this.problems.push(`${name}="${value}" is not an integer from ${min} to ${max}`);
      return fallback;
    }
    return parsed;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    this.problems.push(`${name}="${value}" is not a boolean (true/false)`);
    return fallback;
  }

  oneOf<T>(name: string, accepted: Record<string, T>, fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (Object.hasOwn(accepted, value)) return accepted[value];
    this.problems.push(`${name}="${value}" is not one of: ${Object.keys(accepted).join(', ')}`);
    return fallback;
  }

  list(name: string): string[] {
    return (this.raw(name) ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }

  optionalUrl(name: string, protocols: string[]): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      if (protocols.includes(new URL(value).protocol)) return value;
    } catch {
      // falls through to the problem below; the value itself may hold a password, so it is not echoed
    }
    this.problems.push(`${name} is not a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
    return undefined;
  }

  /**
   * Comma-separated http(s) URLs of public endpoints (so a bad one is echoed), without credentials,
   * query or fragment; returned without a trailing slash.
   */
  httpUrls(name: string, max = Infinity): string[] {
    const items = this.list(name);
    if (items.length > max) this.problems.push(`${name} takes ${max === 1 ? 'one URL' : `at most ${max} URLs`}`);
    const urls: string[] = [];
    for (const item of items.slice(0, max)) {
      let url: URL | undefined;
      try {
        url = new URL(item);
      } catch {
        url = undefined;
      }
      if (!url || !['http:', 'https:'].includes(url.protocol) || url.username || url.password || url.search || url.hash) {
        this.problems.push(`${name}: "${item}" is not an http:// or https:// URL without credentials, query or fragment`);
        continue;
      }
      urls.push(url.href.replace(/\/+$/, ''));
    }
    return urls;
  }

  optionalKey(name: string): Buffer | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    // Strict shapes: Node's base64 decoder skips junk, so a pasted comment would pass unnoticed.
    const key = /^[0-9a-fA-F]{64}$/.test(value)
      ? Buffer.from(value, 'hex')
      : /^[A-Za-z0-9+/_-]{43}=?$/.test(value)
        ? Buffer.from(value, 'base64')
        : Buffer.alloc(0);
    if (key.length !== 32) {
      this.problems.push(`${name} must be 32 bytes, as 64 hex digits or base64 (its value is not shown)`);
      return undefined;
    }
    return key;
  }
}
