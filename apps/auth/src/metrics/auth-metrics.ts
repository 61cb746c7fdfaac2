/**
 * Every metric the service exports, named and described in one place; /metrics prints them in
 * Prometheus' text format. The app's metrics live in its own registry (a test process runs several
 * apps at once), the process's (CPU, memory, event loop, GC) in one registry per process.
 */
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { droppedLogLines } from '../logging/log-output';
import { THROTTLE_STORE, type ThrottleStore } from '../throttle/throttle-store';

/** The routes that prove a password and issue tokens. */
export const LOGIN_ROUTES: ReadonlySet<string> = new Set(['/token/id', '/token/login', '/token/user']);

/** What `pg`'s Pool tells about its connections (TypeORM's postgres driver keeps it in `driver.master`). */
interface PoolCounts {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

let processRegistry: Registry | undefined;

/** Node's default metrics and the log's drops (stdout is the process's), once per process whatever the number of apps in it. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
    new Counter({
      name: 'log_lines_dropped_total',
      help: 'Log lines dropped, not written: the reader of stdout had fallen more than 1 MiB behind (or had gone); serving never waits for it',
      registers: [processRegistry],
      collect() {
        this.reset();
        this.inc(droppedLogLines());
      },
    });
  }
  return processRegistry;
}

@Injectable()
export class AuthMetrics {
  private readonly registry = new Registry();
  /** What /metrics prints: this app's metrics and the process's. */
  private readonly exposition: Registry;

  readonly logins = new Counter({
    name: 'auth_logins_total',
    help: 'Logins on /token/id, /token/login and /token/user, by route and reply code (200, 10101 wrong credentials, 10102 banned, 10103 throttled, 10002 bad input, ...)',
    labelNames: ['route', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly throttled = new Counter({
    name: 'auth_throttled_requests_total',
    help: 'Requests refused by the login throttle (429, code 10103), before any password hashing',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  readonly passwordHashSeconds = new Histogram({
    name: 'auth_password_hash_seconds',
    help: 'Time of one password hash or verification (argon2id; bcrypt for imported hashes), including the wait for a hashing worker',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });

  readonly passwordChecksAbandoned = new Counter({
    name: 'auth_password_checks_abandoned_total',
    help: 'Login password verifications dropped unhashed: the client had hung up before a hashing worker was free (overload sheds them)',
    registers: [this.registry],
  });

  /** Set at start-up by PasswordHashMetrics, which holds the hasher; zeros until then. */
  hashingLoad: () => { running: number; queued: number } = () => ({ running: 0, queued: 0 });

  readonly httpRequestSeconds = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from a request to the end of its reply, by method, route pattern ("unmatched" when no route handled it) and HTTP status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly replyCodes = new Counter({
    name: 'http_reply_codes_total',
    help: 'Replies in the {code, message, data} envelope, by route pattern and code (200 success, else the error code), whatever HTTP status ERROR_HTTP_STATUS gives them',
    labelNames: ['route', 'code'] as const,
    registers: [this.registry],
  });

  constructor(@InjectDataSource() dataSource: DataSource, @Inject(THROTTLE_STORE) throttleStore: ThrottleStore) {
    new Gauge({
      name: 'auth_throttle_store',
      help: "Where the login throttle counts now: 1 for the active store (redis, or postgres: the default, or standing in while Redis is down), 0 for the other",
      labelNames: ['store'] as const,
      registers: [this.registry],
      collect() {
        const { active } = throttleStore.status();
        this.set({ store: 'redis' }, active === 'redis' ? 1 : 0);
        this.set({ store: 'postgres' }, active === 'postgres' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'db_pool_connections',
      help: 'Connections of the database pool: total (open), idle, and waiting (requests queued for a connection)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const pool = (dataSource.driver as { master?: Partial<PoolCounts> }).master;
        this.set({ state: 'total' }, pool?.totalCount ?? 0);
        this.set({ state: 'idle' }, pool?.idleCount ?? 0);
        this.set({ state: 'waiting' }, pool?.waitingCount ?? 0);
      },
    });
    const hashingLoad = () => this.hashingLoad();
    new Gauge({
      name: 'auth_password_hash_jobs',
      help: 'Password hashes and verifications: running (in a hashing worker, one per core) and queued (waiting for one: the service is saturated)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const { running, queued } = hashingLoad();
        this.set({ state: 'running' }, running);
        this.set({ state: 'queued' }, queued);
      },
    });
    // Zero from the start, so that a rate over it exists before the first refusal.
    for (const route of LOGIN_ROUTES) this.throttled.inc({ route }, 0);
    // Last: merging copies the metrics registered so far.
    this.exposition = Registry.merge([this.registry, processMetrics()]);
  }

  /** Every metric in Prometheus' text format. */
  scrape(): Promise<string> {
    return this.exposition.metrics();
  }
}
