/**
 * The service under test, in a process of its own (forked by bench/run.ts). In order:
 *
 * 1. measures the hash-only line while nothing else runs in the process;
 * 2. starts the service exactly as `npm start` does: configuration from the environment the
 *    runner set, the database (DATABASE_URL or the embedded PGlite under DATA_DIR), migrations,
 *    `createHttpApp`, listening on a free loopback port;
 * 3. provisions one app, an admin token of it and the login users through the service's own
 *    classes;
 * 4. reports its port and users, then answers the runner's requests: measure event-loop delay and
 *    CPU time over a window, wait until idle, stop.
 */
import 'reflect-metadata';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import type { Server } from 'node:http';
import { DataSource } from 'typeorm';
import { ConfigError, loadServiceConfig } from '@app/config';
import { locateDatabase, PreparedStatements, preparedStatement } from '@app/persistence';
import { runMigrations } from '../apps/auth/src/database/migrate';
import { createHttpApp } from '../apps/auth/src/http/http-app';
import { TenantsService } from '../apps/auth/src/tenants/tenants.service';
import { UsersService } from '../apps/auth/src/users/users.service';
import { AdminTokensService } from '../apps/auth/src/admin-tokens/admin-tokens.service';
import type { AppEntity } from '../apps/auth/src/tenants/app.entity';
import { measureHashOnly } from './hash-only';
import type { BenchUser, DatabaseRoundTrip, RunnerMessage, ServiceMessage, ServiceWindow } from './protocol';

const PASSWORD = 'correct horse battery staple';
/** libuv's default; the service never sets it. */
const DEFAULT_THREAD_POOL = 4;
/** Event-loop delay sampling interval: fine enough to see a few milliseconds of blocking. */
const LOOP_RESOLUTION_MS = 1;
/** "Idle": the process used less than this share of one core over each of two samples in a row. */
const IDLE_CPU_SHARE = 0.1;
const IDLE_SAMPLE_MS = 50;
/** Free failures per account and per IP high enough that the login throttle never engages. */
const THROTTLE_OFF = 1_000_000_000;

const ROUND_TRIP = preparedStatement<{ one: number }>('bench-round-trip', 'SELECT 1 AS one');

/** DatabaseRoundTrip: medians over about `seconds` / 3 back to back, then as long again with `idleMs` of idle before each. */
async function measureRoundTrip(dataSource: DataSource, idleMs: number, seconds: number): Promise<DatabaseRoundTrip> {
  const statements = new PreparedStatements(dataSource);
  const sample = async (idleBefore: number): Promise<number> => {
    const times: number[] = [];
    const until = performance.now() + (seconds * 1000) / 3;
    while (times.length < 20 || performance.now() < until) {
      if (idleBefore > 0) await new Promise((resolve) => setTimeout(resolve, idleBefore));
      const started = performance.now();
      await statements.rows(ROUND_TRIP, []);
      times.push(performance.now() - started);
    }
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
  };
  await sample(0); // the statement prepared on every connection it meets, and the JIT warm
  return { backToBackMs: await sample(0), afterIdleMs: await sample(idleMs), idleMs };
}

function report(message: ServiceMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'hash-seconds': { type: 'string' }, users: { type: 'string' } },
  });
  const hashSeconds = Number(values['hash-seconds'] ?? 3);
  const config = loadServiceConfig();
  const threadPool = Number(process.env.UV_THREADPOOL_SIZE) || DEFAULT_THREAD_POOL;
  const hashOnly = await measureHashOnly(config.argon2, { seconds: hashSeconds, threadPool });
  report({ type: 'hash-only', line: hashOnly });
  // Provisioning costs one hash whatever the number of users (provisionUsers).
  const userCount = Number(values.users ?? 200);

  const database = await locateDatabase(config);
  await runMigrations(database.url);
  const nest = await createHttpApp(config, database.url);
  await nest.listen(0, '127.0.0.1');
  const server = nest.getHttpServer() as Server;
  const { port } = server.address() as { port: number };

  const provisionStarted = performance.now();
  const app = await nest.get(TenantsService).create({
    name: 'bench',
    defaultRegion: 'CN',
    // Every request comes from 127.0.0.1: with the throttle's defaults the failure rows would be
    // answered 429 before any hashing after 50 failures, and every later row with them.
    loginFreeFailures: THROTTLE_OFF,
    loginIpFreeFailures: THROTTLE_OFF,
  });
  const adminToken = (await nest.get(AdminTokensService).create(app.id, 'bench')).token;
  const users = await provisionUsers(nest.get(UsersService), app, userCount);
  const provisionMs = performance.now() - provisionStarted;
  const [{ server_version: version }] = (await nest.get(DataSource).query('SHOW server_version')) as [{ server_version: string }];
  const roundTrip = await measureRoundTrip(nest.get(DataSource), Math.round(hashOnly.singleMedianMs), hashSeconds);

  report({
    type: 'ready',
    service: {
      port,
      appId: app.id,
      adminToken,
      tokenIssuer: config.tokenIssuer,
      users,
      password: PASSWORD,
      database: { kind: database.kind, version: database.kind === 'embedded' ? `PGlite (PostgreSQL ${version})` : `PostgreSQL ${version}` },
      argon2: config.argon2,
      dbPoolSize: config.dbPoolSize,
      threadPoolSize: threadPool,
      provisionMs,
      roundTrip,
    },
  });

  const window = new MeasurementWindow();
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections();
    await nest.close();
    await database.release();
    process.exit(0);
  };
  process.on('message', (message: RunnerMessage) => {
    switch (message.type) {
      case 'window-start':
        window.start();
        break;
      case 'window-stop':
        report({ type: 'window', window: window.stop() });
        break;
      case 'settle':
        void untilIdle().then((waitedMs) => report({ type: 'settled', waitedMs }));
        break;
      case 'hash-only-again':
        measureHashOnly(config.argon2, { seconds: hashSeconds }).then((line) => report({ type: 'hash-only', line }), fail);
        break;
      case 'stop':
        void stop();
        break;
    }
  });
  // The runner went away (killed, crashed): do not linger holding the port and the database.
  process.once('disconnect', () => void stop());
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

/**
 * Users `bench_<i>`, each with a username, an email and a mobile. The first is registered (the
 * password policy, one argon2id hash with the service's parameters); the others are imported
 * with that hash, so provisioning costs one hash instead of one per user. Every login still
 * verifies a hash of today's parameters (not stale, so no login re-hashes).
 */
async function provisionUsers(service: UsersService, app: AppEntity, count: number): Promise<BenchUser[]> {
  const identifiers = (i: number): Omit<BenchUser, 'id'> => ({
    username: `bench_${i}`,
    email: `bench${i}@bench.example`,
    mobile: `138${String(i).padStart(8, '0')}`,
  });
  const first = await service.register(app, { ...identifiers(0), password: PASSWORD });
  const users: BenchUser[] = new Array(count);
  users[0] = { id: first.id, ...identifiers(0) };
  let next = 1;
  const importNext = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const user = await service.importUser(app, { ...identifiers(i), passwordHash: first.passwordHash });
      users[i] = { id: user.id, ...identifiers(i) };
    }
  };
  await Promise.all(Array.from({ length: availableParallelism() * 2 }, importNext));
  return users;
}

/** Event-loop delay and process CPU time between two messages of the runner. */
class MeasurementWindow {
  private readonly loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  private cpuAtStart = process.cpuUsage();
  private loopThreadAtStart = loopThreadSchedule();
  private utilizationAtStart: EventLoopUtilization = performance.eventLoopUtilization();
  private startedAt = performance.now();

  start(): void {
    this.loopDelay.reset();
    this.loopDelay.enable();
    this.cpuAtStart = process.cpuUsage();
    this.loopThreadAtStart = loopThreadSchedule();
    this.utilizationAtStart = performance.eventLoopUtilization();
    this.startedAt = performance.now();
  }

  stop(): ServiceWindow {
    this.loopDelay.disable();
    const cpu = process.cpuUsage(this.cpuAtStart);
    const loopThread = loopThreadSchedule();
    // The histogram holds the time between samples: what exceeds the interval is the delay.
    const delay = (nanoseconds: number): number => (this.loopDelay.count > 0 ? Math.max(0, nanoseconds / 1e6 - LOOP_RESOLUTION_MS) : 0);
    return {
      eventLoopDelayP50Ms: delay(this.loopDelay.percentile(50)),
      eventLoopDelayP99Ms: delay(this.loopDelay.percentile(99)),
      eventLoopDelayMaxMs: delay(this.loopDelay.max),
      eventLoopUtilization: performance.eventLoopUtilization(this.utilizationAtStart).utilization,
      cpuMs: (cpu.user + cpu.system) / 1000,
      loopThreadCpuMs: loopThread.onCpuMs - this.loopThreadAtStart.onCpuMs,
      loopThreadWaitMs: loopThread.waitingMs - this.loopThreadAtStart.waitingMs,
      elapsedMs: performance.now() - this.startedAt,
    };
  }
}

/**
 * The scheduler's account of the event-loop thread (whose thread id is the process id): time on a
 * core and time spent runnable but waiting for one. Linux only; NaN elsewhere.
 */
function loopThreadSchedule(): { onCpuMs: number; waitingMs: number } {
  try {
    const [onCpuNs, waitingNs] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return { onCpuMs: onCpuNs / 1e6, waitingMs: waitingNs / 1e6 };
  } catch {
    return { onCpuMs: NaN, waitingMs: NaN }; // not Linux, or no scheduler statistics: the columns show '-'
  }
}

/**
 * Resolves once two samples of IDLE_SAMPLE_MS in a row are idle. When autocannon stops a row it
 * drops its connections: the queued verifications of those are dropped too, but the ones already
 * in a worker run to the end, and the next row must not inherit that work.
 */
async function untilIdle(maxMs = 60_000): Promise<number> {
  const started = performance.now();
  let quietSamples = 0;
  while (quietSamples < 2 && performance.now() - started < maxMs) {
    const before = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_MS));
    const used = process.cpuUsage(before);
    quietSamples = (used.user + used.system) / 1000 < IDLE_SAMPLE_MS * IDLE_CPU_SHARE ? quietSamples + 1 : 0;
  }
  return performance.now() - started;
}

main().catch(fail);

function fail(error: unknown): void {
  // A configuration problem is the user's to fix and says so itself; anything else needs its stack.
  const reason = error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  const message: ServiceMessage = { type: 'failed', message: reason };
  // Exit only once the message is out, or the runner would see a bare exit code.
  if (process.send) process.send(message, undefined, {}, () => process.exit(1));
  else process.exit(1);
}
