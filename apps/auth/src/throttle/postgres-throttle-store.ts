/**
 * The login throttle's counters in PostgreSQL (the default), where every instance sees them. Each
 * operation is one statement and uses the database's clock, so instances with skewed clocks agree.
 */
import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ThrottleSettings } from './throttle-policy';
import type { CountedKey, ThrottleState, ThrottleStore } from './throttle-store';

/** A live counter: its key and the seconds it must still wait (0 when it is not blocked). */
export interface CounterRow {
  key: string;
  wait: string | number;
}

/**
 * The live counters among `keys` (an SQL text[] expression), `resetSeconds` (an SQL number)
 * after their last failure. A login's look-up reads them in the statement that finds the user
 * (token/login-lookup.ts), so a login pays one round trip for both.
 */
export function liveCountersSql(keys: string, resetSeconds: string): string {
  return `
  SELECT key, GREATEST(0, EXTRACT(EPOCH FROM (blocked_until - now()))) AS wait
    FROM login_throttle
   WHERE key = ANY(${keys}) AND last_failure_at > now() - make_interval(secs => ${resetSeconds})`;
}

export function throttleStateOf(rows: CounterRow[]): ThrottleState {
  let waitSeconds = 0;
  const counted = new Set<string>();
  for (const row of rows) {
    waitSeconds = Math.max(waitSeconds, Number(row.wait));
    counted.add(row.key);
  }
  return { waitSeconds, counted };
}

const CHECK = liveCountersSql('$1::text[]', '$2');

// The failure count after this one: back to 1 when the last failure is older than the reset period.
const NEXT_FAILURES = `(CASE WHEN t.last_failure_at < now() - make_interval(secs => $4) THEN 1 ELSE t.failures + 1 END)`;

// blocked_until doubles from 1 s after the free failures, capped: throttle-policy.ts delayAfter().
const RECORD_FAILURE = `
  INSERT INTO login_throttle AS t (key, free_failures, failures, last_failure_at, blocked_until)
  SELECT counted.key, counted.free, 1, now(), CASE WHEN counted.free < 1 THEN now() + interval '1 second' END
    FROM unnest($1::text[], $2::int[]) AS counted(key, free)
  ON CONFLICT (key) DO UPDATE SET
    free_failures = EXCLUDED.free_failures,
    failures = ${NEXT_FAILURES},
    last_failure_at = now(),
    blocked_until = CASE WHEN ${NEXT_FAILURES} > EXCLUDED.free_failures
      THEN now() + make_interval(secs => LEAST($3::float8, power(2, LEAST(${NEXT_FAILURES} - EXCLUDED.free_failures - 1, 30))))
      END`;

/** Counters untouched for a day are deleted now and then; the check ignores stale ones anyway. */
const PURGE = `DELETE FROM login_throttle WHERE last_failure_at < now() - interval '1 day'`;
const PURGE_EVERY_MS = 10 * 60 * 1000;

@Injectable()
export class PostgresThrottleStore implements ThrottleStore, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PostgresThrottleStore.name);
  private purgeTimer: NodeJS.Timeout | undefined;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    this.purgeTimer = setInterval(() => {
      this.dataSource.query(PURGE).catch((error: Error) => this.logger.warn(`Could not purge old counters: ${error.message}`));
    }, PURGE_EVERY_MS);
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purgeTimer);
  }

  async check(keys: string[], settings: ThrottleSettings): Promise<ThrottleState> {
    return throttleStateOf(await this.dataSource.query(CHECK, [keys, settings.failureResetSeconds]));
  }

  async recordFailure(keys: CountedKey[], settings: ThrottleSettings): Promise<void> {
    await this.dataSource.query(RECORD_FAILURE, [
      keys.map((key) => key.key),
      keys.map((key) => key.freeFailures),
      settings.maxDelaySeconds,
      settings.failureResetSeconds,
    ]);
  }

  async reset(key: string): Promise<void> {
    await this.dataSource.query('DELETE FROM login_throttle WHERE key = $1', [key]);
  }
}
