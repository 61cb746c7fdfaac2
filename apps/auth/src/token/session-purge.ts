/**
 * Deletes the sessions whose tokens expired more than SESSION_RETENTION_DAYS ago, every
 * SESSION_PURGE_INTERVAL_MS, so the table holds what can still matter rather than every login
 * ever made. Until then an expired session still counts: its token is answered 402 (the platform
 * SDK's signal to log in again by itself) only while the session stands unrevoked; after it, such
 * a token is refused like any unknown one (10008), and the client logs in by hand.
 *
 * In batches (by the session_expires_idx index), each its own short statement, so that a first
 * purge of a large table never holds many row locks at once or runs long.
 */
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { Scheduler } from '../scheduler/scheduler';

const BATCH = 5000;

const PURGE_BATCH = `DELETE FROM session WHERE jti IN (
  SELECT jti FROM session WHERE expires_at < now() - make_interval(days => $1) LIMIT ${BATCH}
)`;

@Injectable()
export class SessionPurge implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly scheduler: Scheduler,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  onModuleInit(): void {
    this.scheduler.every(this.config.intervals.sessionPurgeMs, 'purge long-expired sessions', () => this.purge());
  }

  /** Deletes the sessions expired longer than the retention; returns how many. */
  async purge(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const [, count]: [unknown, number] = await this.dataSource.query(PURGE_BATCH, [this.config.sessionRetentionDays]);
      deleted += count;
      if (count < BATCH) return deleted;
    }
  }
}
