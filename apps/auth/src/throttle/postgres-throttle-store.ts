/**
 * The login throttle's counts in PostgreSQL (the default), where every instance sees them. Each
 * operation is one statement, timed by the database's clock so instances with skewed clocks agree.
 * The reservation is the function `login_throttle_reserve` (its migration says why a function).
 */
import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { CountedKey, ReservationRule } from './throttle-policy';
import type { ThrottleStore, ThrottleStoreStatus } from './throttle-store';

const RESERVE = `SELECT login_throttle_reserve($1::text[], $2::int[], $3::float8[], $4::float8) AS wait`;

// A key given back below its free attempts stops waiting; one still beyond them keeps its wait.
const SETTLE = `
  WITH cleared AS (DELETE FROM login_throttle WHERE key = ANY($1::text[]))
  UPDATE login_throttle SET
      failures = GREATEST(failures - 1, 0),
      blocked_until = CASE WHEN failures - 1 > free_failures THEN blocked_until END
   WHERE key = ANY($2::text[])`;

/** Counters untouched for a day are deleted now and then; a reservation ignores stale ones anyway. */
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

  async reserve(keys: readonly CountedKey[], rule: ReservationRule): Promise<number> {
    const [row] = await this.dataSource.query(RESERVE, [
      keys.map((key) => key.key),
      keys.map((key) => key.freeFailures),
      rule.delays,
      rule.resetSeconds,
    ]);
    return Number(row.wait);
  }

  async settle(clear: readonly string[], giveBack: readonly string[]): Promise<void> {
    if (clear.length === 0 && giveBack.length === 0) return;
    await this.dataSource.query(SETTLE, [clear, giveBack]);
  }

  status(): ThrottleStoreStatus {
    return { active: 'postgres' };
  }
}
