/**
 * Revokes sessions (issued access tokens) and appends each to its app's revocation log in the
 * same statement, so services that verify tokens locally see every revocation by polling the log.
 * Every revocation in the service goes through here.
 *
 * The log is read without any lock (revocation-log.ts), so it must never show a later position of
 * an app before an earlier one: positions (`seq`) are handed out when a row is inserted, not when
 * its transaction commits. Each statement here therefore first takes its app's transaction-level
 * advisory lock (held until commit): an app's revocations are logged one transaction at a time,
 * each position committed before the next is handed out. Revocations are rare (a log-out, a ban,
 * a password change); the services polling the log are many and constant, so the waiting is put
 * on the writers.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** The advisory lock namespace of the revocation log ("revo"); the key within it is `hashtext(app_id)`. */
export const REVOCATION_LOG_LOCK = 0x7265766f;

export interface SessionSelector {
  appId: string;
  /** Revoke this user's sessions... */
  userId?: number;
  /** ...or only those of these users... */
  userIds?: number[];
  /** ...or only those bound to this device... */
  deviceId?: number;
  /** ...or exactly this one. */
  jti?: string;
  /** Keep this one (the caller's own session on a password change). */
  exceptJti?: string;
}

@Injectable()
export class SessionRevoker {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The device of a session that is not revoked (null: a session without one), or undefined when
   * it is revoked or unknown. Read in the caller's transaction, after its locks, by a write made
   * for the session's holder: the session may have been revoked since CallerGuard let the call in.
   */
  async liveSessionDevice(jti: string, manager: EntityManager): Promise<{ deviceId: number | null } | undefined> {
    const rows: Array<{ device_id: string | null }> = await manager.query('SELECT device_id FROM session WHERE jti = $1 AND revoked_at IS NULL', [jti]);
    if (rows.length === 0) return undefined;
    return { deviceId: rows[0].device_id === null ? null : Number(rows[0].device_id) };
  }

  /**
   * Revokes the sessions matching the selector, and logs those whose tokens have not expired (the
   * others can no longer pass a verifier anyway); returns how many it logged. Expired sessions are
   * marked too: an expired token is answered 402 (log in again) only while its session stands, so
   * a device signed out after its token expired must not be told to log in again by itself.
   */
  async revoke(selector: SessionSelector, manager: EntityManager = this.dataSource.manager): Promise<number> {
    const conditions = ['app_id = $1', 'revoked_at IS NULL'];
    const params: unknown[] = [selector.appId];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      conditions.push(sql.replace('?', `$${params.length}`));
    };
    if (selector.userId !== undefined) add('user_id = ?', selector.userId);
    if (selector.userIds !== undefined) add('user_id = ANY(?::bigint[])', selector.userIds);
    if (selector.deviceId !== undefined) add('device_id = ?', selector.deviceId);
    if (selector.jti !== undefined) add('jti = ?', selector.jti);
    if (selector.exceptJti !== undefined) add('jti <> ?', selector.exceptJti);
    // The lock's one-row CTE is joined into the UPDATE, so it is taken before any row reaches the INSERT.
    const rows: Array<{ jti: string }> = await manager.query(
      `WITH locked AS MATERIALIZED (
         SELECT pg_advisory_xact_lock(${REVOCATION_LOG_LOCK}, hashtext($1))
       ), revoked AS (
         UPDATE session SET revoked_at = now() FROM (SELECT count(*) FROM locked) AS held
          WHERE ${conditions.join(' AND ')} RETURNING jti, expires_at
       ), logged AS (
         INSERT INTO revocation (app_id, jti, expires_at) SELECT $1, jti, expires_at FROM revoked WHERE expires_at > now() RETURNING jti
       )
       SELECT jti FROM logged`,
      params,
    );
    return rows.length;
  }

  /**
   * Revokes the live sessions of every app issued within [from, until] (the sessions a signing key
   * may have signed); returns how many. Takes every app's log lock, in one order, so it cannot
   * deadlock with another such call. Meant for an emergency, not for a request path.
   */
  async revokeIssuedBetween(from: Date, until: Date, manager: EntityManager = this.dataSource.manager): Promise<number> {
    const [{ count }]: Array<{ count: number }> = await manager.query(
      `WITH locked AS MATERIALIZED (
         SELECT pg_advisory_xact_lock(${REVOCATION_LOG_LOCK}, hashtext(id)) FROM (SELECT id FROM app ORDER BY id) AS apps
       ), revoked AS (
         UPDATE session SET revoked_at = now() FROM (SELECT count(*) FROM locked) AS held
          WHERE revoked_at IS NULL AND expires_at > now() AND issued_at BETWEEN $1 AND $2 RETURNING app_id, jti, expires_at
       ), logged AS (
         INSERT INTO revocation (app_id, jti, expires_at) SELECT app_id, jti, expires_at FROM revoked RETURNING jti
       )
       SELECT count(*)::int AS count FROM logged`,
      [from, until],
    );
    return count;
  }
}
