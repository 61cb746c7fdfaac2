/**
 * Revokes sessions (issued access tokens) and appends each to the revocation log in the same
 * statement, so services that verify tokens locally see every revocation by polling the log.
 * Every revocation in the service goes through here.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

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

  /** Revokes the live sessions matching the selector; returns how many. */
  async revoke(selector: SessionSelector, manager: EntityManager = this.dataSource.manager): Promise<number> {
    const conditions = ['app_id = $1', 'revoked_at IS NULL', 'expires_at > now()'];
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
    const rows: Array<{ jti: string }> = await manager.query(
      `WITH revoked AS (
         UPDATE session SET revoked_at = now() WHERE ${conditions.join(' AND ')} RETURNING jti, expires_at
       ), logged AS (
         INSERT INTO revocation (jti, expires_at) SELECT jti, expires_at FROM revoked RETURNING jti
       )
       SELECT jti FROM logged`,
      params,
    );
    return rows.length;
  }
}
