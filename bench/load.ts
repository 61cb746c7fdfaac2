/**
 * One row of load: autocannon with `concurrency` connections (each sends its next request as soon
 * as the previous answer arrives), cycling through a list of request bodies.
 *
 * Only a steady-state window is measured. The row runs for warm-up + window; responses are
 * time-stamped as they arrive and only those completed inside the window count, so neither the
 * ramp-up (the first requests of a row never queue) nor autocannon's abrupt stop (in-flight
 * requests are dropped) skews the figures. The service is told when the window opens and closes,
 * and measures its event-loop delay and CPU time over the same span.
 */
import autocannon from 'autocannon';

export interface LoadSpec {
  readonly url: string;
  readonly concurrency: number;
  readonly headers: Record<string, string>;
  readonly bodies: readonly string[];
  /** What a response must be to count: HTTP status, and a check of the body. */
  readonly expectStatus: number;
  readonly expectBody: (body: string) => boolean;
}

export interface LoadTiming {
  readonly warmupSeconds: number;
  readonly windowSeconds: number;
  /** Autocannon's per-request timeout; must exceed the worst queueing delay of the row. */
  readonly timeoutSeconds: number;
  readonly onWindowStart: () => void;
  readonly onWindowStop: () => void;
}

export interface LoadResult {
  /** Responses as expected, completed in the window. */
  readonly completed: number;
  readonly perSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  /** Everything else in the window: other statuses ("status 500"), bodies that failed the check, timeouts. */
  readonly errors: Record<string, number>;
  readonly windowSeconds: number;
}

interface Sample {
  readonly at: number;
  readonly status: number;
  readonly latencyMs: number;
  bodyOk: boolean;
}

/** Past the window, so that its closing edge is not autocannon's stop. */
const TAIL_SECONDS = 0.15;

export async function runLoad(spec: LoadSpec, timing: LoadTiming): Promise<LoadResult> {
  const samples: Sample[] = [];
  const failures: Array<{ at: number; message: string }> = [];
  let next = 0;

  const instance = autocannon({
    url: spec.url,
    connections: spec.concurrency,
    duration: timing.warmupSeconds + timing.windowSeconds + TAIL_SECONDS,
    timeout: timing.timeoutSeconds,
    // autocannon notices the end of its duration only at a sample tick (every second by default).
    sampleInt: 100,
    method: 'POST',
    headers: spec.headers,
    requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, body: spec.bodies[next++ % spec.bodies.length] }) }],
    verifyBody: spec.expectBody,
  });
  instance.on('response', (_client, status, _bytes, latencyMs) => {
    samples.push({ at: performance.now(), status, latencyMs, bodyOk: true });
  });
  // Emitted right after the 'response' of the same reply, before any other reply is handled.
  instance.on('reqMismatch', () => {
    const last = samples[samples.length - 1];
    if (last) last.bodyOk = false;
  });
  instance.on('reqError', (error) => failures.push({ at: performance.now(), message: error.message }));

  let windowFrom = Infinity;
  let windowTo = Infinity;
  const opens = setTimeout(() => {
    windowFrom = performance.now();
    timing.onWindowStart();
  }, timing.warmupSeconds * 1000);
  const closes = setTimeout(() => {
    windowTo = performance.now();
    timing.onWindowStop();
  }, (timing.warmupSeconds + timing.windowSeconds) * 1000);
  try {
    await instance;
  } finally {
    clearTimeout(opens);
    clearTimeout(closes);
  }

  const inWindow = (at: number): boolean => at >= windowFrom && at < windowTo;
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const count = (reason: string): void => {
    errors[reason] = (errors[reason] ?? 0) + 1;
  };
  for (const sample of samples) {
    if (!inWindow(sample.at)) continue;
    if (sample.status !== spec.expectStatus) count(`status ${sample.status}`);
    else if (!sample.bodyOk) count('unexpected body');
    else latencies.push(sample.latencyMs);
  }
  for (const failure of failures) if (inWindow(failure.at)) count(failure.message);

  const windowSeconds = (windowTo - windowFrom) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    completed: latencies.length,
    perSec: latencies.length / windowSeconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    meanMs: latencies.length > 0 ? latencies.reduce((sum, ms) => sum + ms, 0) / latencies.length : NaN,
    errors,
    windowSeconds,
  };
}

/** Nearest-rank percentile of sorted values; NaN when there are none. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
