/**
 * Writes what a login leaves behind, in one prepared statement (one round trip, atomic): the
 * session row of the token and, when a `device_guid` was sent, the device. It writes them only if
 * what the password check found is still true at this moment:
 *
 * - the user still exists, is not banned, and has the security stamp it had (no password change,
 *   ban or sign-out of every device meanwhile); the row is read `FOR SHARE`, so a change that is
 *   committing waits for this write or this write sees it, never neither;
 * - a device the user had already logged in from still exists with the push token it had (it was
 *   not removed or signed out meanwhile).
 * Otherwise nothing is written and the login fails as it would have a moment later (see
 * `refusal`). Locks are taken user first, then device, as every writer of those rows does.
 *
 * A new device gets the next `device_sn` of its user and a fresh push token; a known one keeps
 * both and only refreshes its User-Agent and last login. Concurrent first logins with one guid
 * meet in the unique constraint and yield one device; concurrent first logins of two new devices
 * of one user may draw the same `device_sn`, in which case the loser retries with the next number.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiError } from '@app/contract';
import { PreparedStatements, preparedStatement, uniqueViolation } from '@app/persistence';
import { platformFromUserAgent } from '../devices/device-platform';
import { newOpaqueToken } from '../crypto/random-ids';
import { UserStatus } from '../users/user.entity';
import type { ProvenLogin } from './credentials-verifier';

export interface SessionToRecord {
  jti: string;
  appId: string;
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

interface RecordedRow {
  status: number | null;
  password_hash: string | null;
  issued: boolean;
  device_id: string | null;
  device_sn: number | null;
  push_token: string | null;
}

const USER_AGENT_MAX = 512;
const MAX_ATTEMPTS = 5;

// Shared by every statement: $1 jti, $2 app, $3 user, $4 issued at, $5 expires at, $6 security stamp.
const ACCOUNT = `account AS (
    SELECT status, password_hash, (status = ${UserStatus.Normal} AND security_stamp = $6) AS still_valid
      FROM app_user WHERE app_id = $2 AND id = $3 FOR SHARE
  )`;
const REPLY = (device: string) => `
  SELECT account.status, account.password_hash, session_row.jti IS NOT NULL AS issued, ${device}
    FROM (SELECT 1) AS one LEFT JOIN account ON true LEFT JOIN session_row ON true`;
/** After a `device_row` CTE: the session bound to it, and the reply naming it. */
const SESSION_ON_DEVICE_AND_REPLY = `, session_row AS (
    INSERT INTO session (jti, app_id, user_id, device_id, issued_at, expires_at)
    SELECT $1, $2, $3, device_row.id, $4, $5 FROM device_row
    RETURNING jti
  )${REPLY('device_row.id AS device_id, device_row.device_sn, device_row.push_token')} LEFT JOIN device_row ON true`;

const INSERT_SESSION = preparedStatement<RecordedRow>(
  'login-insert-session',
  `WITH ${ACCOUNT}, session_row AS (
    INSERT INTO session (jti, app_id, user_id, device_id, issued_at, expires_at)
    SELECT $1, $2, $3, NULL, $4, $5 FROM account WHERE still_valid
    RETURNING jti
  )${REPLY('NULL AS device_id, NULL AS device_sn, NULL AS push_token')}`,
);

// A device the check found: $7 its id, $8 its push token then, $9 platform, $10 User-Agent.
const UPDATE_DEVICE_AND_INSERT_SESSION = preparedStatement<RecordedRow>(
  'login-update-device-insert-session',
  `WITH ${ACCOUNT}, device_row AS (
    UPDATE device SET platform = $9, user_agent = $10, last_login_at = $4
     WHERE id = $7 AND user_id = $3 AND push_token = $8 AND (SELECT still_valid FROM account)
    RETURNING id, device_sn, push_token
  )${SESSION_ON_DEVICE_AND_REPLY}`,
);

// A device the check did not find: $7 its guid, $8 platform, $9 User-Agent, $10 a new push token.
const UPSERT_DEVICE_AND_INSERT_SESSION = preparedStatement<RecordedRow>(
  'login-upsert-device-insert-session',
  `WITH ${ACCOUNT}, device_row AS (
    INSERT INTO device (app_id, user_id, device_guid, device_sn, platform, user_agent, push_token, last_login_at)
    SELECT $2, $3, $7, COALESCE(MAX(existing.device_sn), 0) + 1, $8, $9, $10, $4
      FROM device existing WHERE existing.user_id = $3
    HAVING (SELECT still_valid FROM account)
    ON CONFLICT ON CONSTRAINT device_guid_unique DO UPDATE
      SET platform = EXCLUDED.platform, user_agent = EXCLUDED.user_agent, last_login_at = EXCLUDED.last_login_at
    RETURNING id, device_sn, push_token
  )${SESSION_ON_DEVICE_AND_REPLY}`,
);

@Injectable()
export class LoginRecorder {
  private readonly statements: PreparedStatements;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.statements = new PreparedStatements(dataSource);
  }

  /** The device written, or null without one; throws what the login would now answer when nothing was written. */
  async record(session: SessionToRecord, proven: ProvenLogin, device?: DeviceLogin): Promise<RecordedDevice | null> {
    const { user } = proven;
    const sessionParams = [session.jti, session.appId, user.id, session.issuedAt, session.expiresAt, user.securityStamp];
    if (!device) {
      const [row] = await this.statements.rows(INSERT_SESSION, sessionParams);
      if (!row.issued) throw refusal(row, proven);
      return null;
    }
    const platform = platformFromUserAgent(device.userAgent);
    const userAgent = device.userAgent?.slice(0, USER_AGENT_MAX) ?? null;
    if (proven.device) {
      const [row] = await this.statements.rows(UPDATE_DEVICE_AND_INSERT_SESSION, [
        ...sessionParams,
        proven.device.id,
        proven.device.pushToken,
        platform,
        userAgent,
      ]);
      return recordedDevice(row, proven);
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const [row] = await this.statements.rows(UPSERT_DEVICE_AND_INSERT_SESSION, [
          ...sessionParams,
          device.deviceGuid,
          platform,
          userAgent,
          newOpaqueToken('psh', 24),
        ]);
        return recordedDevice(row, proven);
      } catch (error) {
        if (uniqueViolation(error) !== 'device_sn_unique' || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }
}

function recordedDevice(row: RecordedRow, proven: ProvenLogin): RecordedDevice {
  if (!row.issued) throw refusal(row, proven);
  return { deviceId: Number(row.device_id), deviceSn: row.device_sn!, pushToken: row.push_token! };
}

/**
 * What a login answers when what its check proved stopped being true before its session was
 * written: what the same login would get a moment later. A deleted user or a changed password is
 * a wrong password, a ban is a ban; a sign-out meanwhile (of this device, or of every device) has
 * no later equivalent, since a new login would succeed, so it gets its own code and the client
 * logs in again.
 */
function refusal(row: RecordedRow, proven: ProvenLogin): ApiError {
  if (row.status === null) return new ApiError('WRONG_CREDENTIALS');
  if (row.status === UserStatus.Banned) return new ApiError('USER_BANNED');
  if (row.password_hash !== proven.user.passwordHash) return new ApiError('WRONG_CREDENTIALS');
  return new ApiError('LOGIN_INTERRUPTED');
}
