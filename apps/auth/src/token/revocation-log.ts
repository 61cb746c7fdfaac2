/**
 * Reads the revocation log (written by SessionRevoker) for the services that verify tokens
 * locally: they poll for the jtis revoked after the last `seq` they saw, and refuse those tokens
 * until they expire. Rows of expired tokens are purged now and then: they can no longer matter.
 *
 * Why the read takes a SHARE lock: `seq` comes from a sequence, handed out when a row is inserted,
 * not when its transaction commits. Without the lock, a poll could see seq 11 (committed) while
 * seq 10 is still in flight, move its cursor to 11 and never see 10. SHARE waits for the writers in
 * flight to commit and holds new ones off for the few milliseconds of the read, so every page is a
 * prefix of the log with no holes left to fill later.
 */
import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Most jtis one poll returns; a full page means "call again with the new cursor". */
export const REVOCATION_PAGE_SIZE = 1000;

const PAGE = `
  SELECT seq, jti, floor(extract(epoch FROM expires_at))::bigint AS expires FROM revocation
   WHERE seq > $1 AND expires_at > now()
   ORDER BY seq
   LIMIT $2`;

const PURGE = `DELETE FROM revocation WHERE expires_at <= now()`;
const PURGE_EVERY_MS = 10 * 60 * 1000;

export interface RevocationPage {
  /** The highest seq returned, or `since` when nothing was: the next call's `since`. */
  cursor: number;
  jtis: string[];
  /** Each jti's token expiry (Unix seconds), so a poller can forget it afterwards. */
  expires: number[];
}

@Injectable()
export class RevocationLog implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RevocationLog.name);
  private purgeTimer: NodeJS.Timeout | undefined;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    this.purgeTimer = setInterval(() => {
      this.purge().catch((error: Error) => this.logger.warn(`Could not purge expired revocations: ${error.message}`));
    }, PURGE_EVERY_MS);
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purgeTimer);
  }

  /** The revocations after `since` whose tokens have not expired yet, oldest first. */
  async since(since: number, limit = REVOCATION_PAGE_SIZE): Promise<RevocationPage> {
    const rows: Array<{ seq: string | number; jti: string; expires: string | number }> = await this.dataSource.transaction(async (manager) => {
      await manager.query('LOCK TABLE revocation IN SHARE MODE');
      return manager.query(PAGE, [since, limit]);
    });
    return {
      cursor: rows.length > 0 ? Number(rows[rows.length - 1].seq) : since,
      jtis: rows.map((row) => row.jti),
      expires: rows.map((row) => Number(row.expires)),
    };
  }

  /** Deletes the rows of tokens that have expired; returns how many. */
  async purge(): Promise<number> {
    const [, deleted]: [unknown, number] = await this.dataSource.query(PURGE);
    return deleted;
  }
}
