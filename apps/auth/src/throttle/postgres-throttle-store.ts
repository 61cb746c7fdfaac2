/**
 * The login throttle's counts in PostgreSQL (the default), where every instance sees them. Each
 * operation is one statement, timed by the database's clock so instances with skewed clocks agree.
 * The reservation is the function `login_throttle_reserve` (its migration says why a function).
 */
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { Scheduler } from '../scheduler/scheduler';
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

/** Counters untouched for a day are deleted now and then (THROTTLE_PURGE_INTERVAL_MS); a reservation ignores stale ones anyway. */
const PURGE = `DELETE FROM login_throttle WHERE last_failure_at < now() - interval '1 day'`;

@Injectable()
export class PostgresThrottleStore implements ThrottleStore, OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly scheduler: Scheduler,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  onModuleInit(): void {
    this.scheduler.every(this.config.intervals.throttlePurgeMs, 'purge old login throttle counters', () => this.dataSource.query(PURGE));
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
