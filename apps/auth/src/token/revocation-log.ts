/**
 * Reads the revocation log (written by SessionRevoker) for the services that verify tokens
 * locally: each polls its app's jtis revoked after the last `seq` it saw, and refuses those tokens
 * until they expire. Rows of expired tokens are purged now and then: they can no longer matter.
 *
 * A poll is one statement: the caller's admin or verifier token and a page of at most
 * REVOCATION_PAGE_SIZE rows of its app, found by the `(app_id, seq)` index. It takes no lock and
 * waits for no writer: a page is still a prefix of the app's log with no holes left to fill later,
 * because SessionRevoker logs an app's revocations one transaction at a time (its advisory lock),
 * so no position of an app commits before an earlier one.
 */
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PreparedStatements, preparedStatement } from '@app/persistence';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { adminTokenHash, verifierCallerRefusal } from '../admin-tokens/admin-tokens.service';
import { Scheduler } from '../scheduler/scheduler';

/** Most jtis one poll returns; a full page means "call again with the new cursor". */
export const REVOCATION_PAGE_SIZE = 1000;

/**
 * One row always: the caller's app (null: no live admin or verifier token), then the page's rows
 * (seq null when the page is empty). The page is read only for the app the caller belongs to.
 */
const PAGE = preparedStatement<{ caller_app: string | null; seq: string | null; jti: string | null; expires: string | null }>(
  'revocation-log-page',
  `SELECT caller.app_id AS caller_app, page.seq, page.jti, floor(extract(epoch FROM page.expires_at))::bigint AS expires
     FROM (SELECT (SELECT app_id FROM admin_token WHERE token_hash = $1 AND revoked_at IS NULL) AS app_id) AS caller
     LEFT JOIN LATERAL (
       SELECT seq, jti, expires_at FROM revocation
        WHERE app_id = $2 AND caller.app_id = $2 AND seq > $3 AND expires_at > now()
        ORDER BY seq
        LIMIT $4
     ) AS page ON true
    ORDER BY page.seq`,
);

/** Every REVOCATION_PURGE_INTERVAL_MS. */
const PURGE = `DELETE FROM revocation WHERE expires_at <= now()`;

export interface RevocationPage {
  /** The highest seq returned, or `since` when nothing was: the next call's `since`. */
  cursor: number;
  jtis: string[];
  /** Each jti's token expiry (Unix seconds), so a poller can forget it afterwards. */
  expires: number[];
}

@Injectable()
export class RevocationLog implements OnModuleInit {
  private readonly statements: PreparedStatements;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly scheduler: Scheduler,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {
    this.statements = new PreparedStatements(dataSource);
  }

  onModuleInit(): void {
    this.scheduler.every(this.config.intervals.revocationPurgeMs, 'purge expired revocations', () => this.purge());
  }

  /**
   * The revocations of `appId` after `since` whose tokens have not expired yet, oldest first, for
   * the holder of `credential` (an admin or verifier token of that app; else 10008).
   */
  async since(credential: string, appId: string, since: number, limit = REVOCATION_PAGE_SIZE): Promise<RevocationPage> {
    const rows = await this.statements.rows(PAGE, [adminTokenHash(credential), appId, since, Math.min(limit, REVOCATION_PAGE_SIZE)]);
    const refusal = verifierCallerRefusal(rows[0].caller_app, appId);
    if (refusal) throw refusal;
    const page = rows.filter((row) => row.seq !== null);
    return {
      cursor: page.length > 0 ? Number(page[page.length - 1].seq) : since,
      jtis: page.map((row) => row.jti!),
      expires: page.map((row) => Number(row.expires)),
    };
  }

  /** Deletes the rows of tokens that have expired; returns how many. */
  async purge(): Promise<number> {
    const [, deleted]: [unknown, number] = await this.dataSource.query(PURGE);
    return deleted;
  }
}
