/**
 * The benchmark's output: the results file's shape, the table (Markdown, so a run can be pasted
 * into docs/performance.md as is) and the targets from the issue, each judged met or not met with
 * the figures that decide it.
 */
import type { Argon2Params, DatabaseRoundTrip, HashOnlyLine, ServiceReady } from './protocol';
import { CONTRAST_CONCURRENCY, hashesPerRequest, type Route, type RowKind } from './rows';
import type { VerificationResult } from './verification';

export interface RowResult {
  readonly label: string;
  /** The route loaded, or '-' for the in-process row. */
  readonly route: Route | '-';
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
  /** The auth-client row's three rates (crypto.verify alone, verifySync, verify). */
  readonly verification?: VerificationResult;
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
/** The line at the end more than this far from the line at the start: the machine's speed changed, every share is skewed. */
export const LINE_DRIFT = 0.1;

/** How far the line at the end is from the line at the start (0.05 = 5% faster); 0 when the end's was measured busy (it says nothing then). */
function lineDrift(start: HashOnlyLine, end: HashOnlyLine | undefined): number {
  return end && end.otherCpuCores <= NOISE_CORES ? end.perSec / start.perSec - 1 : 0;
}

export function lineAgainLine(start: HashOnlyLine, end: HashOnlyLine): string {
  const drift = lineDrift(start, end);
  const verdict =
    end.otherCpuCores > NOISE_CORES
      ? `: other processes used ${fixed(end.otherCpuCores, 2)} cores meanwhile, so it says nothing`
      : Math.abs(drift) > LINE_DRIFT
        ? ': the machine changed speed during the run, every share is skewed'
        : '';
  return `hash-only line measured again: ${fixed(end.perSec, 1)}/s against ${fixed(start.perSec, 1)}/s at the start (${signed((end.perSec / start.perSec - 1) * 100, 1)}%${verdict})`;
}

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
  readonly database: ServiceReady['database'] & { readonly fresh: boolean; readonly poolSize: number; readonly roundTrip: DatabaseRoundTrip };
  readonly argon2: Argon2Params;
  readonly users: number;
  readonly hashOnly: HashOnlyLine;
  /** The line measured again after the last row; undefined in results written before it was. */
  readonly hashOnlyAtEnd?: HashOnlyLine;
  /** Access tokens the verification rows cycle through (logged in by the runner); 0 when neither ran. */
  readonly verificationTokens: number;
  readonly rows: RowResult[];
  readonly targets: TargetCheck[];
  readonly totalSeconds: number;
}

export function hashOnlyLines(hashOnly: HashOnlyLine, argon2: Argon2Params): string[] {
  const line = (label: string, value: string): string => `  ${label.padEnd(44)}${value}`;
  const lines = [
    `Hash-only line: argon2id m=${argon2.memoryCost} KiB, t=${argon2.timeCost}, p=${argon2.parallelism}, @node-rs/argon2 verifySync in the service's hashing workers`,
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
        `binding's async verify, ${hashOnly.atThreadPool.threads} at once (libuv)`,
        `${fixed(hashOnly.atThreadPool.perSec, 1)}/s (${percent(hashOnly.atThreadPool.perSec / hashOnly.perSec)} of the line; not the service's path)`,
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
    hashesPerRequest(row.kind) > 0 ? percent(row.shareOfHashOnly) : '-',
    fixed(row.p50Ms, 1),
    fixed(row.p99Ms, 1),
    fixed(row.eventLoopDelayP99Ms, 1),
    percent(row.loopWaitingShare),
    fixed(row.cpuMsPerRequest, row.cpuMsPerRequest < 0.1 ? 4 : row.cpuMsPerRequest < 1 ? 2 : 1),
    fixed(row.loopCpuMsPerRequest, 2),
    errorText(row.errors),
  ]);
  return markdownTable(header, body);
}

/** The auth-client row's three rates, printed under the hash-only line. */
export function verificationLines(result: VerificationResult): string[] {
  const line = (label: string, value: string): string => `  ${label.padEnd(44)}${value}`;
  const rate = (perCoreSec: number, cpuUsEach: number): string => `${grouped(perCoreSec)}/s per core (${fixed(cpuUsEach, 2)} µs CPU each)`;
  const { raw, cold, repeated } = result;
  return [
    `In-process token verification: libs/auth-client in the runner, ${result.tokens} tokens of the service, RS256, one thread, ` +
      `${result.sliceMs} ms slices in turn`,
    line("crypto.verify('sha256', …) alone", rate(raw.perCoreSec, raw.cpuUsEach)),
    line('verifySync, new tokens (nothing cached)', `${rate(cold.perCoreSec, cold.cpuUsEach)}; ${percent(cold.perCoreSec / raw.perCoreSec)} of crypto.verify`),
    line('verifySync, repeated tokens (the row)', `${rate(repeated.perCoreSec, repeated.cpuUsEach)}; ${times(repeated.perCoreSec / raw.perCoreSec)} crypto.verify`),
  ];
}

/** The auth-client row's ratios to crypto.verify alone, per core, in the same window. */
export function verificationRatios({ raw, cold, repeated }: VerificationResult): string {
  return (
    `repeated tokens ${grouped(repeated.perCoreSec)}/s per core = ${times(repeated.perCoreSec / raw.perCoreSec)} crypto.verify, ` +
    `new tokens ${grouped(cold.perCoreSec)}/s = ${percent(cold.perCoreSec / raw.perCoreSec)} of crypto.verify (${grouped(raw.perCoreSec)}/s)`
  );
}

/** The introspection row against the pipeline row of the same run. */
export function introspectionRatio(introspection: RowResult, pipeline: RowResult): string {
  return `${percent(introspection.perSec / pipeline.perSec)} of the pipeline row's ${fixed(pipeline.perSec, 0)}/s`;
}

export function roundTripLine(roundTrip: DatabaseRoundTrip): string {
  return (
    `Database round trip (prepared SELECT 1, median): ${fixed(roundTrip.backToBackMs, 2)} ms back to back, ` +
    `${fixed(roundTrip.afterIdleMs, 2)} ms after ${roundTrip.idleMs} ms idle (as a login's write comes after its hash)`
  );
}

export function checkTargets(
  rows: readonly RowResult[],
  hashOnly: HashOnlyLine,
  context: { roundTrip?: DatabaseRoundTrip; hashOnlyAtEnd?: HashOnlyLine } = {},
): TargetCheck[] {
  const { roundTrip } = context;
  // Both targets compare with the line: unreliable when it was busy, or moved during the run.
  const lineSkewed = hashOnly.otherCpuCores > NOISE_CORES || Math.abs(lineDrift(hashOnly, context.hashOnlyAtEnd)) > LINE_DRIFT;
  const logins = rows.filter((row) => row.kind === 'login');
  const at = (route: RowResult['route'], concurrency: number): RowResult | undefined =>
    logins.find((row) => row.route === route && row.concurrency === concurrency);
  const routes = [...new Set(logins.map((row) => row.route))];
  const checks: TargetCheck[] = [];

  for (const route of routes) {
    const row = at(route, 64);
    if (!row) continue;
    checks.push({
      target: `${route} c=64 ≥ 90% of the hash-only line`,
      skewed: skewed(row) || lineSkewed,
      met: row.perSec >= 0.9 * hashOnly.perSec,
      detail: `${fixed(row.perSec, 1)}/s = ${percent(row.shareOfHashOnly)} of ${fixed(hashOnly.perSec, 1)}/s`,
    });
  }
  for (const route of routes) {
    const row = at(route, 1);
    if (!row) continue;
    // Median against median: the mean of the sequential verifications carries their outliers.
    const verificationMs = hashOnly.singleMedianMs;
    checks.push({
      target: `${route} c=1 p50 within 2 ms of one verification`,
      skewed: skewed(row) || lineSkewed,
      met: row.p50Ms <= verificationMs + 2,
      detail:
        `p50 ${fixed(row.p50Ms, 1)} ms vs median verification ${fixed(verificationMs, 1)} ms (${signed(row.p50Ms - verificationMs, 1)} ms)` +
        (roundTrip ? `; its two database round trips after idle alone take ${fixed(2 * roundTrip.afterIdleMs, 1)} ms` : ''),
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
  const underLoad = rows.filter((row) => hashesPerRequest(row.kind) > 0);
  if (underLoad.length > 0) {
    const worst = underLoad.reduce((a, b) => (b.eventLoopDelayP99Ms > a.eventLoopDelayP99Ms ? b : a));
    checks.push({
      target: 'event-loop delay p99 < 10 ms during every login row',
      skewed: skewed(worst),
      met: worst.eventLoopDelayP99Ms < 10,
      detail: `worst ${fixed(worst.eventLoopDelayP99Ms, 1)} ms (${worst.label}, c=${worst.concurrency})`,
    });
  }
  const inProcess = rows.find((row) => row.kind === 'auth-client');
  if (inProcess?.verification) {
    const { raw, cold, repeated } = inProcess.verification;
    checks.push({
      target: 'auth-client, repeated tokens ≥ 10 × crypto.verify (per core, same window)',
      skewed: skewed(inProcess),
      met: repeated.perCoreSec >= 10 * raw.perCoreSec,
      detail: `${grouped(repeated.perCoreSec)}/s vs ${grouped(raw.perCoreSec)}/s = ${times(repeated.perCoreSec / raw.perCoreSec)}`,
    });
    checks.push({
      target: 'auth-client, new tokens ≥ 90% of crypto.verify (per core, same window)',
      skewed: skewed(inProcess),
      met: cold.perCoreSec >= 0.9 * raw.perCoreSec,
      detail:
        `${grouped(cold.perCoreSec)}/s vs ${grouped(raw.perCoreSec)}/s = ${percent(cold.perCoreSec / raw.perCoreSec)} ` +
        `(${fixed(cold.cpuUsEach, 1)} µs against ${fixed(raw.cpuUsEach, 1)} µs each)`,
    });
  }
  const introspection = rows.find((row) => row.kind === 'introspection');
  const pipeline = rows.find((row) => row.kind === 'pipeline');
  if (introspection && pipeline) {
    checks.push({
      target: 'POST /token/introspect ≥ 70% of the pipeline row',
      skewed: skewed(introspection) || skewed(pipeline),
      met: introspection.perSec >= 0.7 * pipeline.perSec,
      detail:
        `${fixed(introspection.perSec, 0)} req/s = ${introspectionRatio(introspection, pipeline)}; ` +
        `${fixed(introspection.cpuMsPerRequest, 2)} against ${fixed(pipeline.cpuMsPerRequest, 2)} ms of service CPU a request`,
    });
  }
  return checks;
}

/** Rows during which other processes kept the machine busy: their figures are suspect. */
export function noiseLines(rows: readonly RowResult[], hashOnly: HashOnlyLine, hashOnlyAtEnd?: HashOnlyLine): string[] {
  const lines = rows
    .filter(skewed)
    .map((row) => `  ${row.label}, c=${row.concurrency}: other processes used ${fixed(row.otherCpuCores, 2)} cores`);
  if (hashOnly.otherCpuCores > NOISE_CORES) {
    lines.unshift(`  the hash-only line (so every share): other processes used ${fixed(hashOnly.otherCpuCores, 2)} cores`);
  }
  const drift = lineDrift(hashOnly, hashOnlyAtEnd);
  if (Math.abs(drift) > LINE_DRIFT) {
    lines.unshift(`  every share: the hash-only line was ${signed(drift * 100, 0)}% at the end of the run (the machine changed speed)`);
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

/** 43470.2 → "43,470". */
function grouped(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-';
}

/** 23.41 → "23.4×". */
function times(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(1)}×` : '-';
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
