/**
 * The benchmark's output: the results file's shape, the table (Markdown, so a run can be pasted
 * into docs/performance.md as is) and the targets from the issue, each judged met or not met with
 * the figures that decide it.
 */
import type { Argon2Params, HashOnlyLine, ServiceReady } from './protocol';
import { CONTRAST_CONCURRENCY, type LoginRoute, type RowKind } from './rows';

export interface RowResult {
  readonly label: string;
  readonly route: LoginRoute;
  readonly kind: RowKind;
  readonly concurrency: number;
  readonly perSec: number;
  /** perSec / the measured hash-only line. */
  readonly shareOfHashOnly: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly completed: number;
  readonly errors: Record<string, number>;
  readonly warmupSeconds: number;
  readonly windowSeconds: number;
  readonly eventLoopDelayP50Ms: number;
  readonly eventLoopDelayP99Ms: number;
  readonly eventLoopDelayMaxMs: number;
  /** Share of the window the event loop was running callbacks. */
  readonly eventLoopUtilization: number;
  /** Cores the service process kept busy during the window. */
  readonly serviceCpuCores: number;
  /** Service CPU time per counted response, in ms. */
  readonly cpuMsPerRequest: number;
  /** Event-loop thread CPU time per counted response, in ms (Linux). */
  readonly loopCpuMsPerRequest: number;
  /** Share of the window the event-loop thread was ready to run but had no core (Linux). */
  readonly loopWaitingShare: number;
  /** Cores busy with neither the service nor the load generator during the window (other work on the machine). */
  readonly otherCpuCores: number;
}

export interface TargetCheck {
  readonly target: string;
  readonly met: boolean;
  readonly detail: string;
  /** Other processes kept the machine busy during a row this check reads: take it with salt. */
  readonly skewed: boolean;
}

/** Cores of other processes' work during a row above which the row is reported as skewed. */
export const NOISE_CORES = 0.2;

export interface BenchResults {
  readonly startedAt: string;
  readonly mode: 'full' | 'quick';
  readonly machine: {
    readonly cpuModel: string;
    readonly cores: number;
    readonly node: string;
    readonly platform: string;
    readonly memoryGiB: number;
    readonly libuvThreadPool: number;
    /** 1-minute load average before and after the run: a busy machine skews every row. */
    readonly loadAverage: { readonly start: number; readonly end: number };
  };
  readonly database: ServiceReady['database'] & { readonly fresh: boolean; readonly poolSize: number };
  readonly argon2: Argon2Params;
  readonly users: number;
  readonly hashOnly: HashOnlyLine;
  readonly rows: RowResult[];
  readonly notBuilt: string[];
  readonly frameworkComparison: { readonly measured: false; readonly reason: string };
  readonly targets: TargetCheck[];
  readonly totalSeconds: number;
}

/** Rows the issue asks for that have nothing to run against yet. */
export const NOT_BUILT = ['token verification: auth-client (in-process verify)', 'token verification: introspection endpoint'];

export const FASTIFY_SKIPPED =
  'not measured: needs service changes. @nestjs/platform-fastify is not a dependency, and the HTTP layer is Express-specific: ' +
  'createHttpApp returns a NestExpressApplication and calls app.disable/app.set (apps/auth/src/http/http-app.ts), JsonBodyMiddleware ' +
  "wraps express.json() (json-body.middleware.ts), ApiExceptionFilter answers through Express's response.status().json() " +
  '(api-exception.filter.ts). The "pipeline only" row bounds what any adapter could save per login.';

export function hashOnlyLines(hashOnly: HashOnlyLine, argon2: Argon2Params): string[] {
  const line = (label: string, value: string): string => `  ${label.padEnd(44)}${value}`;
  const lines = [
    `Hash-only line: argon2id m=${argon2.memoryCost} KiB, t=${argon2.timeCost}, p=${argon2.parallelism}, @node-rs/argon2 verify`,
    line('one verification, idle, sequential', `${fixed(hashOnly.singleMs, 1)} ms (median ${fixed(hashOnly.singleMedianMs, 1)} ms)`),
    line('cores × 1000 / single', `${hashOnly.concurrency} × ${fixed(1000 / hashOnly.singleMs, 1)} = ${fixed(hashOnly.idealPerSec, 1)}/s`),
    line(
      `measured flat out, ${hashOnly.concurrency} at once (the line)`,
      `${fixed(hashOnly.perSec, 1)}/s (${percent(hashOnly.perSec / hashOnly.idealPerSec)} of cores × single; ` +
        `${fixed(hashOnly.cpuMsPerVerification, 1)} ms CPU each)`,
    ),
  ];
  if (hashOnly.atThreadPool) {
    lines.push(
      line(
        `measured flat out, ${hashOnly.atThreadPool.threads} at once (libuv pool)`,
        `${fixed(hashOnly.atThreadPool.perSec, 1)}/s (${percent(hashOnly.atThreadPool.perSec / hashOnly.perSec)} of the line: more threads than cores)`,
      ),
    );
  }
  return lines;
}

export function table(rows: readonly RowResult[]): string {
  const header = ['Row', 'c', 'req/s', 'of hash-only', 'p50 ms', 'p99 ms', 'loop delay p99 ms', 'loop waits for a core', 'CPU ms/req', 'of which loop', 'errors'];
  const body = rows.map((row) => [
    row.label,
    String(row.concurrency),
    fixed(row.perSec, 1),
    row.kind === 'pipeline' ? '-' : percent(row.shareOfHashOnly),
    fixed(row.p50Ms, 1),
    fixed(row.p99Ms, 1),
    fixed(row.eventLoopDelayP99Ms, 1),
    percent(row.loopWaitingShare),
    fixed(row.cpuMsPerRequest, 1),
    fixed(row.loopCpuMsPerRequest, 2),
    errorText(row.errors),
  ]);
  for (const name of NOT_BUILT) body.push([name, '-', 'n/a (not built yet)', ...header.slice(3).map(() => '')]);
  return markdownTable(header, body);
}

export function checkTargets(rows: readonly RowResult[], hashOnly: HashOnlyLine): TargetCheck[] {
  const logins = rows.filter((row) => row.kind === 'login');
  const at = (route: LoginRoute, concurrency: number): RowResult | undefined =>
    logins.find((row) => row.route === route && row.concurrency === concurrency);
  const routes = [...new Set(logins.map((row) => row.route))];
  const checks: TargetCheck[] = [];

  for (const route of routes) {
    const row = at(route, 64);
    if (!row) continue;
    checks.push({
      target: `${route} c=64 ≥ 90% of the hash-only line`,
      skewed: skewed(row) || hashOnly.otherCpuCores > NOISE_CORES,
      met: row.perSec >= 0.9 * hashOnly.perSec,
      detail: `${fixed(row.perSec, 1)}/s = ${percent(row.shareOfHashOnly)} of ${fixed(hashOnly.perSec, 1)}/s`,
    });
  }
  for (const route of routes) {
    const row = at(route, 1);
    if (!row) continue;
    checks.push({
      target: `${route} c=1 p50 within 2 ms of one verification`,
      skewed: skewed(row) || hashOnly.otherCpuCores > NOISE_CORES,
      met: row.p50Ms <= hashOnly.singleMs + 2,
      detail: `p50 ${fixed(row.p50Ms, 1)} ms vs ${fixed(hashOnly.singleMs, 1)} ms (${signed(row.p50Ms - hashOnly.singleMs, 1)} ms)`,
    });
  }
  for (const route of routes) {
    const row = at(route, 16);
    if (!row) continue;
    const limit = 1.5 * ((16 / row.perSec) * 1000);
    checks.push({
      target: `${route} c=16 p99 ≤ 1.5 × 16 / logins per second`,
      skewed: skewed(row),
      met: row.p99Ms <= limit,
      detail: `p99 ${fixed(row.p99Ms, 1)} ms vs 1.5 × ${fixed((16 / row.perSec) * 1000, 1)} = ${fixed(limit, 1)} ms`,
    });
  }
  for (const kind of ['wrong-password', 'unknown-user'] as const) {
    const row = rows.find((candidate) => candidate.kind === kind);
    const success = row && at(row.route, row.concurrency);
    if (!row || !success) continue;
    const ratio = row.perSec / success.perSec;
    checks.push({
      target: `${kind} throughput within 10% of success (${row.route}, c=${CONTRAST_CONCURRENCY})`,
      skewed: skewed(row) || skewed(success),
      met: Math.abs(ratio - 1) <= 0.1,
      detail: `${fixed(row.perSec, 1)}/s vs ${fixed(success.perSec, 1)}/s (${signed((ratio - 1) * 100, 1)}%)`,
    });
  }
  const underLoad = rows.filter((row) => row.kind !== 'pipeline');
  if (underLoad.length > 0) {
    const worst = underLoad.reduce((a, b) => (b.eventLoopDelayP99Ms > a.eventLoopDelayP99Ms ? b : a));
    checks.push({
      target: 'event-loop delay p99 < 10 ms during every login row',
      skewed: skewed(worst),
      met: worst.eventLoopDelayP99Ms < 10,
      detail: `worst ${fixed(worst.eventLoopDelayP99Ms, 1)} ms (${worst.label}, c=${worst.concurrency})`,
    });
  }
  return checks;
}

/** Rows during which other processes kept the machine busy: their figures are suspect. */
export function noiseLines(rows: readonly RowResult[], hashOnly: HashOnlyLine): string[] {
  const lines = rows
    .filter(skewed)
    .map((row) => `  ${row.label}, c=${row.concurrency}: other processes used ${fixed(row.otherCpuCores, 2)} cores`);
  if (hashOnly.otherCpuCores > NOISE_CORES) {
    lines.unshift(`  the hash-only line (so every share): other processes used ${fixed(hashOnly.otherCpuCores, 2)} cores`);
  }
  return lines;
}

export function targetLines(checks: readonly TargetCheck[]): string[] {
  return checks.map((check) => `${check.met ? 'met    ' : 'NOT met'}  ${check.target}: ${check.detail}${check.skewed ? ' (skewed: machine busy)' : ''}`);
}

function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (column === 0 ? `:${'-'.repeat(width + 1)}` : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function errorText(errors: Record<string, number>): string {
  const entries = Object.entries(errors);
  return entries.length === 0 ? '0' : entries.map(([reason, count]) => `${count} × ${reason}`).join(', ');
}

export function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

function percent(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(0)}%` : '-';
}

function signed(value: number, digits: number): string {
  return `${value >= 0 ? '+' : '−'}${fixed(Math.abs(value), digits)}`;
}

function skewed(row: RowResult): boolean {
  return row.otherCpuCores > NOISE_CORES;
}
