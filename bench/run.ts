/**
 * `npm run bench`: the login and token-verification benchmark. Starts the service in a child
 * process (bench/server.ts) on the database DATABASE_URL names, or on the embedded PGlite when it
 * is unset, measures the hash-only ceiling there, then drives each row with autocannon from this
 * process (the auth-client row runs libs/auth-client here) and prints one table;
 * bench/results.json keeps every figure with the machine it ran on.
 *
 *   npm run bench                              under 3 minutes
 *   npm run bench -- --quick                   the same table with 1 s rows, about 30 s, for CI
 *   npm run bench -- --argon2 m=65536,t=3,p=4  other argon2id parameters (memory KiB, time, lanes)
 *   DATABASE_URL=postgresql://… npm run bench -- --fresh-db
 *                                              in a new database bench_<timestamp>, dropped after
 *   npm run bench -- --only 'POST /token/user' --cpu-prof /tmp/prof
 *                                              some rows only; a CPU profile of the service
 *   npm run bench -- --only pipeline --only 'token verification'
 *                                              --only again: the rows matching any (here the
 *                                              three the auth-client and introspection targets read)
 *   npm run bench -- --help                    this text
 *
 * docs/performance.md says what each row means.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad, type LoadSpec } from './load';
import { hashesPerRequest, planRows, USER_AGENT, VERIFICATION_TOKENS, type HttpRowPlan, type InProcessRowPlan } from './rows';
import { createFreshDatabase, type FreshDatabase } from './fresh-database';
import { measureVerification } from './verification';
import { ServiceChannel, ServiceFailed, type HashOnlyLine, type ServiceReady, type ServiceWindow } from './protocol';
import {
  checkTargets,
  fixed,
  hashOnlyLines,
  introspectionRatio,
  verificationRatios,
  lineAgainLine,
  noiseLines,
  roundTripLine,
  table,
  targetLines,
  verificationLines,
  type BenchResults,
  type RowResult,
} from './report';

const ROOT = join(__dirname, '..');
const RESULTS_FILE = join(__dirname, 'results.json');
/** Fixed so that runs are alike; it only seals this run's signing keys in a throw-away database. */
const MASTER_KEY = '62656e63686d61726b2d6d61737465722d6b65792d6e6f742d612d7365637265';

interface Durations {
  /** Measured span of each row, at least. */
  readonly windowSeconds: number;
  /** Warm-up before each row's window, at least. */
  readonly warmupSeconds: number;
  /**
   * Warm-up in turns of the queue (concurrency / hash-only rate): after one turn every request in
   * flight has queued behind the others, so latencies are at their steady state.
   */
  readonly warmupQueueTurns: number;
  /** The window in turns of the queue, at least: enough completions for a p99 at high concurrency. */
  readonly windowQueueTurns: number;
  /** Length of each hash-only measurement. */
  readonly hashSeconds: number;
  /** Users to provision (`--users` sets another number); never fewer than the highest concurrency, so no two connections of a row start with the same user. */
  readonly users: number;
  /** The auth-client row: warm-up, and the window its three loops share. */
  readonly verifyWarmupSeconds: number;
  readonly verifyWindowSeconds: number;
  /** Logins through each login route, unmeasured, before the first row (JIT warm-up). */
  readonly jitWarmupSecondsPerRoute: number;
}

const FULL: Durations = {
  windowSeconds: 8,
  warmupSeconds: 1,
  warmupQueueTurns: 1.5,
  windowQueueTurns: 2,
  hashSeconds: 3,
  users: 200,
  verifyWarmupSeconds: 1,
  verifyWindowSeconds: 6,
  jitWarmupSecondsPerRoute: 1,
};
const QUICK: Durations = {
  windowSeconds: 1,
  warmupSeconds: 0.3,
  warmupQueueTurns: 1,
  windowQueueTurns: 1,
  hashSeconds: 0.4,
  users: 64,
  verifyWarmupSeconds: 0.3,
  verifyWindowSeconds: 1.2,
  jitWarmupSecondsPerRoute: 0.3,
};

interface Options {
  readonly quick: boolean;
  readonly freshDb: boolean;
  /** ARGON2_* variables for the service's configuration. */
  readonly argon2Env: Record<string, string>;
  readonly users: number | undefined;
  /** Only the rows whose label contains one of these texts (all rows when empty). */
  readonly only: readonly string[];
  /** Folder for a V8 CPU profile of the service process (`node --cpu-prof`), written when it stops. */
  readonly cpuProfDir: string | undefined;
}

async function main(): Promise<void> {
  const options = parseOptions();
  const durations = options.quick ? QUICK : FULL;
  const startedAt = new Date();
  const stamp = (): string => `[${fixed((Date.now() - startedAt.getTime()) / 1000, 0).padStart(3)} s]`;
  console.log(
    `Benchmark (${options.quick ? 'quick' : 'full'}): ${cpus()[0]?.model ?? 'unknown CPU'}, ` +
      `${availableParallelism()} cores, Node ${process.version}; load average ${fixed(loadavg()[0], 2)}`,
  );

  const results = await runRows(options, durations, stamp);
  const verification = results.rows.find((row) => row.verification)?.verification;
  console.log(`\n${hashOnlyLines(results.hashOnly, results.argon2).join('\n')}\n`);
  if (verification) console.log(`${verificationLines(verification).join('\n')}\n`);
  console.log(table(results.rows));
  const noise = noiseLines(results.rows, results.hashOnly, results.hashOnlyAtEnd);
  if (noise.length > 0) console.log(`\nThe machine was not quiet; these rows are skewed:\n${noise.join('\n')}`);
  console.log(`\nTargets:\n${targetLines(results.targets).join('\n')}`);

  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  console.log(
    `\n${results.database.version}, ${results.machine.cpuModel} × ${results.machine.cores}; ` +
      `${fixed((Date.now() - startedAt.getTime()) / 1000, 0)} s. Wrote ${RESULTS_FILE}`,
  );
}

/** Every row, on a service of its own (and a fresh database with --fresh-db), with its hash-only line. */
async function runRows(options: Options, durations: Durations, stamp: () => string): Promise<BenchResults> {
  const startedAt = new Date();
  const loadAtStart = loadavg()[0];
  const service = await startService(options, durations);
  const onInterrupt = (): void => void service.stop().finally(() => process.exit(130));
  process.once('SIGINT', onInterrupt);
  try {
    const hashOnly = (await service.channel.next('hash-only', 600_000)).line;
    const ready = (await service.channel.next('ready', 900_000)).service;
    console.log(`${stamp()} ready`);
    console.log(hashOnlyLines(hashOnly, ready.argon2).join('\n'));
    console.log(
      `Service: ${ready.database.version}${service.fresh ? ` (fresh database ${service.fresh.name})` : ''}, pool ${ready.dbPoolSize}, ` +
        `libuv pool ${ready.threadPoolSize}; ${ready.users.length} users provisioned in ${fixed(ready.provisionMs / 1000, 1)} s`,
    );
    console.log(`${roundTripLine(ready.roundTrip)}\n`);

    await warmUpLogins(ready, durations);
    const rows: RowResult[] = [];
    let tokens: string[] | undefined;
    for (const plan of planRows(ready).filter((row) => options.only.length === 0 || options.only.some((text) => row.label.includes(text)))) {
      if (plan.needsTokens) tokens ??= await loginTokens(ready, VERIFICATION_TOKENS);
      const row =
        plan.type === 'http'
          ? await measureRow(service.channel, ready, plan, hashOnly, durations, tokens ?? [])
          : await measureInProcess(service.channel, ready, plan, durations, tokens ?? []);
      rows.push(row);
      console.log(`${stamp()} ${progressLine(row, rows)}`);
    }
    // Every share is against the line measured at the start: measure it again, to see whether the
    // machine kept its speed (a VM's host can slow it down for minutes, unseen by its own counters).
    service.channel.send({ type: 'settle' });
    await service.channel.next('settled', 120_000);
    service.channel.send({ type: 'hash-only-again' });
    const hashOnlyAtEnd = (await service.channel.next('hash-only', 600_000)).line;
    console.log(`${stamp()} ${lineAgainLine(hashOnly, hashOnlyAtEnd)}`);

    return {
      startedAt: startedAt.toISOString(),
      mode: options.quick ? 'quick' : 'full',
      machine: {
        cpuModel: cpus()[0]?.model ?? 'unknown',
        cores: availableParallelism(),
        node: process.version,
        platform: `${platform()} ${release()}`,
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        libuvThreadPool: ready.threadPoolSize,
        loadAverage: { start: loadAtStart, end: loadavg()[0] },
      },
      database: { ...ready.database, fresh: service.fresh !== undefined, poolSize: ready.dbPoolSize, roundTrip: ready.roundTrip },
      argon2: ready.argon2,
      users: ready.users.length,
      hashOnly,
      hashOnlyAtEnd,
      verificationTokens: tokens?.length ?? 0,
      rows,
      targets: checkTargets(rows, hashOnly, { roundTrip: ready.roundTrip, hashOnlyAtEnd }),
      totalSeconds: (Date.now() - startedAt.getTime()) / 1000,
    };
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    await service.stop();
  }
}

/** Access tokens for the verification rows: the first `count` users log in through POST /token/user. */
async function loginTokens(ready: ServiceReady, count: number): Promise<string[]> {
  const users = ready.users.slice(0, count);
  return Promise.all(
    users.map(async (user) => {
      const response = await fetch(`http://127.0.0.1:${ready.port}/token/user`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', app_id: ready.appId, 'user-agent': USER_AGENT },
        body: JSON.stringify({ name: user.username, password: ready.password }),
      });
      const reply = (await response.json()) as { code?: number; data?: { token?: string } };
      if (reply.code !== 200 || typeof reply.data?.token !== 'string') {
        throw new Error(`logging ${user.username} in for the verification rows answered HTTP ${response.status}: ${JSON.stringify(reply)}`);
      }
      return reply.data.token;
    }),
  );
}

interface StartedService {
  readonly channel: ServiceChannel;
  readonly fresh: FreshDatabase | undefined;
  /** Stops the service, then removes its data directory and drops the fresh database. */
  stop(): Promise<void>;
}

/**
 * Forks bench/server.ts with the service's configuration in its environment: the database
 * (a fresh one, DATABASE_URL, or the embedded one under a temporary DATA_DIR), the argon2
 * parameters, and what the benchmark fixes (no demo seed, warnings only, a loopback port, and
 * errors mirrored into HTTP statuses, which its rows check and its past results were taken with).
 */
async function startService(options: Options, durations: Durations): Promise<StartedService> {
  const databaseUrl = process.env.DATABASE_URL || undefined;
  if (options.freshDb && !databaseUrl) throw new UsageError('--fresh-db needs DATABASE_URL (the server to create the database on)');
  const fresh = options.freshDb && databaseUrl ? await createFreshDatabase(databaseUrl) : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'im-auth-bench-'));
  const args = [
    ...['--hash-seconds', String(durations.hashSeconds)],
    ...['--users', String(options.users ?? durations.users)],
  ];
  const child = fork(join(__dirname, 'server.ts'), args, {
    cwd: ROOT,
    execArgv: ['-r', '@swc-node/register', ...(options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      ...options.argon2Env,
      DATABASE_URL: fresh?.url ?? databaseUrl ?? '',
      DATA_DIR: dataDir,
      MASTER_KEY,
      SEED_DEMO: 'false',
      LOG_LEVEL: 'warn',
      ERROR_HTTP_STATUS: 'mirror',
      HOST: '127.0.0.1',
      PORT: '0',
    },
  });
  const channel = new ServiceChannel(child);
  // One stop, however many ask (the run's end and Ctrl-C may both).
  let stopped: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    await channel.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await fresh?.drop();
  };
  return { channel, fresh, stop: () => (stopped ??= stop()) };
}

/** A row as it completes; the introspection row also against the pipeline row of this run, when it ran before. */
function progressLine(row: RowResult, rows: readonly RowResult[]): string {
  const errors = Object.keys(row.errors).length > 0 ? `, errors ${JSON.stringify(row.errors)}` : '';
  if (row.verification) {
    return `${row.label}: ${verificationRatios(row.verification)}, other processes ${fixed(row.otherCpuCores, 2)} cores${errors}`;
  }
  const pipeline = row.kind === 'introspection' ? rows.find((candidate) => candidate.kind === 'pipeline') : undefined;
  return (
    `${row.label}, c=${row.concurrency}: ${fixed(row.perSec, 1)}/s${pipeline ? ` (${introspectionRatio(row, pipeline)})` : ''}, ` +
    `p50 ${fixed(row.p50Ms, 1)} ms, p99 ${fixed(row.p99Ms, 1)} ms, ` +
    `loop delay p99 ${fixed(row.eventLoopDelayP99Ms, 1)} ms, other processes ${fixed(row.otherCpuCores, 2)} cores${errors}`
  );
}

/** What autocannon sends for a row: its route, connections, headers and bodies, and what it expects back. */
function loadSpecOf(ready: ServiceReady, plan: HttpRowPlan, tokens: readonly string[]): LoadSpec {
  return {
    url: `http://127.0.0.1:${ready.port}${plan.route}`,
    concurrency: plan.concurrency,
    headers: { 'content-type': 'application/json', app_id: ready.appId, 'user-agent': USER_AGENT, ...plan.headers },
    bodies: plan.bodies(tokens),
    expectStatus: plan.expectStatus,
    expectBody: plan.expectBody,
  };
}

/**
 * Logs in through every login route for a moment, unmeasured, before the first row: otherwise the
 * first row (`/token/id` at c = 1) pays for code the JIT has not compiled yet.
 */
async function warmUpLogins(ready: ServiceReady, durations: Durations): Promise<void> {
  const logins = planRows(ready).filter((plan): plan is HttpRowPlan => plan.type === 'http' && plan.kind === 'login' && plan.concurrency === 16);
  for (const plan of logins) {
    await runLoad(
      loadSpecOf(ready, plan, []),
      { warmupSeconds: 0, windowSeconds: durations.jitWarmupSecondsPerRoute, timeoutSeconds: 10, onWindowStart: () => undefined, onWindowStop: () => undefined },
    );
  }
}

/**
 * One row of HTTP load: wait until the service is idle, then load it for warm-up + window. On the
 * rows that hash, both stretch with the expected queueing time (concurrency / hash-only rate), so
 * slow argon2 parameters still get a steady state and several turns of the queue inside the window.
 */
async function measureRow(
  service: ServiceChannel,
  ready: ServiceReady,
  plan: HttpRowPlan,
  hashOnly: HashOnlyLine,
  durations: Durations,
  tokens: readonly string[],
): Promise<RowResult> {
  service.send({ type: 'settle' });
  await service.next('settled', 120_000);

  const queueSeconds = (hashesPerRequest(plan.kind) * plan.concurrency) / hashOnly.perSec;
  const warmupSeconds = Math.max(durations.warmupSeconds, durations.warmupQueueTurns * queueSeconds);
  const windowSeconds = Math.max(durations.windowSeconds, durations.windowQueueTurns * queueSeconds);
  let windowReply: Promise<ServiceWindow> | undefined;
  let machineAtStart = new CpuSnapshot();
  let machineBusy = { cores: NaN, runnerCores: NaN };
  const load = await runLoad(
    loadSpecOf(ready, plan, tokens),
    {
      warmupSeconds,
      windowSeconds,
      timeoutSeconds: Math.max(10, Math.ceil(10 * queueSeconds)),
      onWindowStart: () => {
        machineAtStart = new CpuSnapshot();
        service.send({ type: 'window-start' });
      },
      onWindowStop: () => {
        machineBusy = new CpuSnapshot().since(machineAtStart);
        windowReply = service.next('window', 30_000).then((reply) => reply.window);
        service.send({ type: 'window-stop' });
      },
    },
  );
  if (!windowReply) throw new Error(`${plan.label}: the measurement window never closed`);
  const window = await windowReply;
  const answered = Math.max(1, load.completed + Object.values(load.errors).reduce((sum, n) => sum + n, 0));

  return {
    label: plan.label,
    route: plan.route,
    kind: plan.kind,
    concurrency: plan.concurrency,
    perSec: load.perSec,
    shareOfHashOnly: load.perSec / hashOnly.perSec,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    meanMs: load.meanMs,
    completed: load.completed,
    errors: load.errors,
    warmupSeconds,
    windowSeconds: load.windowSeconds,
    eventLoopDelayP50Ms: window.eventLoopDelayP50Ms,
    eventLoopDelayP99Ms: window.eventLoopDelayP99Ms,
    eventLoopDelayMaxMs: window.eventLoopDelayMaxMs,
    eventLoopUtilization: window.eventLoopUtilization,
    serviceCpuCores: window.cpuMs / window.elapsedMs,
    otherCpuCores: Math.max(0, machineBusy.cores - machineBusy.runnerCores - window.cpuMs / window.elapsedMs),
    cpuMsPerRequest: window.cpuMs / answered,
    loopCpuMsPerRequest: window.loopThreadCpuMs / answered,
    loopWaitingShare: window.loopThreadWaitMs / window.elapsedMs,
  };
}

/**
 * The auth-client row, in this process: the service only issued the tokens and is idle meanwhile
 * (it settles first), so the row has no service-side columns. CPU ms/req is this process's CPU
 * time per `verifySync`.
 */
async function measureInProcess(
  service: ServiceChannel,
  ready: ServiceReady,
  plan: InProcessRowPlan,
  durations: Durations,
  tokens: readonly string[],
): Promise<RowResult> {
  service.send({ type: 'settle' });
  await service.next('settled', 120_000);
  const verification = await measureVerification(
    { baseUrl: `http://127.0.0.1:${ready.port}`, appId: ready.appId, adminToken: ready.adminToken, issuer: ready.tokenIssuer },
    tokens,
    { warmupSeconds: durations.verifyWarmupSeconds, windowSeconds: durations.verifyWindowSeconds },
  );
  // The row's rate is the repeated tokens' (what a service mostly sees); the block above the table has all three.
  const { repeated: sync } = verification;
  return {
    label: plan.label,
    route: '-',
    kind: plan.kind,
    concurrency: 1,
    perSec: sync.perSec,
    shareOfHashOnly: NaN,
    p50Ms: NaN,
    p99Ms: NaN,
    meanMs: NaN,
    completed: sync.count,
    errors: verification.rejected,
    warmupSeconds: verification.warmupSeconds,
    windowSeconds: verification.windowSeconds,
    eventLoopDelayP50Ms: NaN,
    eventLoopDelayP99Ms: NaN,
    eventLoopDelayMaxMs: NaN,
    eventLoopUtilization: NaN,
    serviceCpuCores: NaN,
    otherCpuCores: verification.otherCpuCores,
    cpuMsPerRequest: sync.cpuUsEach / 1000,
    loopCpuMsPerRequest: NaN,
    loopWaitingShare: NaN,
    verification,
  };
}

/**
 * CPU time of the whole machine (the kernel's per-core counters) and of this process, so a row
 * can tell how much of the machine went to neither the service nor the load generator: on a
 * shared machine, someone else's work that skews the row.
 */
class CpuSnapshot {
  private readonly machineBusyMs = cpus().reduce((sum, cpu) => sum + cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq, 0);
  private readonly runner = process.cpuUsage();
  private readonly at = performance.now();

  /** Cores kept busy between `start` and this snapshot: by everything, and by this process. */
  since(start: CpuSnapshot): { cores: number; runnerCores: number } {
    const elapsedMs = this.at - start.at;
    const runnerMs = (this.runner.user - start.runner.user + this.runner.system - start.runner.system) / 1000;
    return { cores: (this.machineBusyMs - start.machineBusyMs) / elapsedMs, runnerCores: runnerMs / elapsedMs };
  }
}

class UsageError extends Error {}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'fresh-db': { type: 'boolean', default: false },
      argon2: { type: 'string' },
      users: { type: 'string' },
      only: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
    },
  });
  if (values.help) {
    // The usage is this file's opening comment.
    const usage = readFileSync(__filename, 'utf8').split('*/')[0].replace(/^\/\*\*\n?/, '').replace(/^ \* ?/gm, '');
    console.log(usage.trimEnd());
    process.exit(0);
  }
  const users = values.users === undefined ? undefined : Number(values.users);
  if (users !== undefined && !(Number.isInteger(users) && users >= 1)) throw new UsageError('--users must be a positive integer');
  return {
    quick: values.quick,
    freshDb: values['fresh-db'],
    argon2Env: argon2Env(values.argon2),
    users,
    only: values.only,
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']),
  };
}

/** `m=65536,t=3,p=4` (any subset) → ARGON2_MEMORY_KIB, ARGON2_TIME_COST, ARGON2_PARALLELISM; the service validates the values. */
function argon2Env(spec: string | undefined): Record<string, string> {
  if (spec === undefined) return {};
  const names: Record<string, string> = { m: 'ARGON2_MEMORY_KIB', t: 'ARGON2_TIME_COST', p: 'ARGON2_PARALLELISM' };
  const env: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const [key, value] = part.split('=').map((text) => text.trim());
    if (!names[key] || !value) throw new UsageError(`--argon2 takes m=<KiB>,t=<iterations>,p=<lanes>; "${part}" is not one of them`);
    env[names[key]] = value;
  }
  return env;
}

main().catch((error: unknown) => {
  console.error(error instanceof UsageError || error instanceof ServiceFailed ? error.message : error);
  process.exit(1);
});
