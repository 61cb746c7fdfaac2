/**
 * Writes what a login leaves behind, in one prepared statement (one round trip, atomic): the session row
 * of the token, and, when a `device_guid` was sent, the device upserted per (app, user, guid).
 *
 * A new device gets the next `device_sn` of its user and a fresh push token; a known one keeps
 * both (the push token is stable until the device is removed) and only refreshes its User-Agent
 * and last login. Concurrent logins with one guid meet in the unique constraint and yield one
 * device; concurrent first logins of two new devices of one user may draw the same `device_sn`,
 * in which case the loser retries with the next number.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PreparedStatements, preparedStatement, uniqueViolation } from '@app/persistence';
import { platformFromUserAgent } from '../devices/device-platform';
import { newOpaqueToken } from '../crypto/random-ids';

export interface SessionToRecord {
  jti: string;
  appId: string;
  userId: number;
  issuedAt: Date;
  expiresAt: Date;
}

export interface DeviceLogin {
  deviceGuid: string;
  userAgent: string | undefined;
}

export interface RecordedDevice {
  deviceId: number;
  deviceSn: number;
  pushToken: string;
}

const USER_AGENT_MAX = 512;
const MAX_ATTEMPTS = 5;

const INSERT_SESSION = preparedStatement(
  'login-insert-session',
  `INSERT INTO session (jti, app_id, user_id, device_id, issued_at, expires_at) VALUES ($1, $2, $3, NULL, $4, $5)`,
);

const UPSERT_DEVICE_AND_INSERT_SESSION = preparedStatement<{ device_id: string; device_sn: number; push_token: string }>(
  'login-upsert-device-insert-session',
  `
  WITH device_row AS (
    INSERT INTO device (app_id, user_id, device_guid, device_sn, platform, user_agent, push_token, last_login_at)
    SELECT $2, $3, $6, COALESCE(MAX(existing.device_sn), 0) + 1, $7, $8, $9, $4
      FROM device existing WHERE existing.user_id = $3
    ON CONFLICT ON CONSTRAINT device_guid_unique DO UPDATE
      SET platform = EXCLUDED.platform, user_agent = EXCLUDED.user_agent, last_login_at = EXCLUDED.last_login_at
    RETURNING id, device_sn, push_token
  ), session_row AS (
    INSERT INTO session (jti, app_id, user_id, device_id, issued_at, expires_at)
    SELECT $1, $2, $3, device_row.id, $4, $5 FROM device_row
    RETURNING jti
  )
  SELECT device_row.id AS device_id, device_row.device_sn, device_row.push_token
    FROM device_row, session_row`,
);

@Injectable()
export class LoginRecorder {
  private readonly statements: PreparedStatements;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.statements = new PreparedStatements(dataSource);
  }

  async record(session: SessionToRecord, device?: DeviceLogin): Promise<RecordedDevice | null> {
    const sessionParams = [session.jti, session.appId, session.userId, session.issuedAt, session.expiresAt];
    if (!device) {
      await this.statements.rows(INSERT_SESSION, sessionParams);
      return null;
    }
    const userAgent = device.userAgent?.slice(0, USER_AGENT_MAX) ?? null;
    for (let attempt = 1; ; attempt++) {
      try {
        const rows = await this.statements.rows(
          UPSERT_DEVICE_AND_INSERT_SESSION,
          [...sessionParams, device.deviceGuid, platformFromUserAgent(device.userAgent), userAgent, newOpaqueToken('psh', 24)],
        );
        const row = rows[0];
        return { deviceId: Number(row.device_id), deviceSn: row.device_sn, pushToken: row.push_token };
      } catch (error) {
        if (uniqueViolation(error) !== 'device_sn_unique' || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }
}
