/**
 * A bounded login load: a fixed number of loops, each sending one login after another (each on a
 * fresh connection) until stopped. Every request's outcome is kept, with when it started, so a
 * test can split them around an event (the database stopping, a signal).
 */
import { send, type Outcome } from './fresh-connection-client';

export interface LoginLoadOptions {
  baseUrl: string;
  appId: string;
  /** The route, e.g. /token/user. */
  path: string;
  body: Record<string, unknown>;
  /** Concurrent loops. */
  concurrency: number;
  /** Per-request bound: a request slower than this is abandoned with error TIMEOUT. */
  timeoutMs?: number;
}

export interface LoginLoad {
  /** Outcomes so far. */
  readonly outcomes: readonly Outcome[];
  /** Stops the loops after their current request and returns every outcome. */
  stop(): Promise<Outcome[]>;
}

export function startLoginLoad(options: LoginLoadOptions): LoginLoad {
  const outcomes: Outcome[] = [];
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      outcomes.push(
        await send(options.baseUrl, 'POST', options.path, {
          headers: { app_id: options.appId },
          body: options.body,
          timeoutMs: options.timeoutMs,
        }),
      );
    }
  };
  const loops = Array.from({ length: options.concurrency }, loop);
  return {
    outcomes,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return outcomes;
    },
  };
}

/** A one-line summary of outcomes (counts by status or error, slowest), for failure messages. */
export function describeOutcomes(outcomes: readonly Outcome[]): string {
  const counts = new Map<string, number>();
  for (const outcome of outcomes) {
    const key = outcome.error ?? `${outcome.status}/${outcome.body?.code ?? '-'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const slowest = Math.max(0, ...outcomes.map((outcome) => outcome.ms));
  return `${outcomes.length} requests: ${[...counts].map(([key, count]) => `${key} x${count}`).join(', ')}; slowest ${slowest} ms`;
}
