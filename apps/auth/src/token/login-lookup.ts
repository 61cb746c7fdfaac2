/**
 * A login's read, one prepared statement before any hashing: the user its identifier names, and,
 * when the login names a device, that device if the user has logged in from it before. What it
 * reads is what the login's write later insists is still true (login-recorder.ts): the user's
 * status and security stamp, and the device's row and push token.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PreparedStatements, preparedStatement, type PreparedStatement } from '@app/persistence';
import { UserStatus } from '../users/user.entity';
import { lookupValue, type UserLookup } from '../users/identifiers';

/** What a login needs of its user, as read before hashing. */
export interface LoginUser {
  id: number;
  passwordHash: string;
  status: UserStatus;
  /** Moves with every password change, ban and sign-out of all devices (login-recorder.ts). */
  securityStamp: number;
}

/** The login's device as read before hashing: it must still be so when the session is written. */
export interface KnownDevice {
  id: number;
  pushToken: string;
}

export interface LoginRead {
  user: LoginUser | null;
  /** The user's device with the login's `device_guid`; null when there is none (yet) or no guid was sent. */
  device: KnownDevice | null;
}

interface LoginRow {
  id: string;
  password_hash: string;
  status: number;
  security_stamp: number;
  device_id: string | null;
  device_push_token: string | null;
}

/** The column each kind of identifier is looked up by; each has a unique index per app. */
const COLUMN_OF: Record<UserLookup['kind'], string> = { id: 'id', username: 'username_key', mobile: 'mobile', email: 'email' };

// $1 app, $2 identifier, $3 device_guid (NULL: none).
const loginStatements = Object.fromEntries(
  (Object.keys(COLUMN_OF) as Array<UserLookup['kind']>).map((kind) => [
    kind,
    preparedStatement<LoginRow>(
      `login-read-by-${kind}`,
      `SELECT u.id, u.password_hash, u.status, u.security_stamp, d.id AS device_id, d.push_token AS device_push_token
         FROM app_user u
         LEFT JOIN device d ON d.user_id = u.id AND d.app_id = u.app_id AND d.device_guid = $3
        WHERE u.app_id = $1 AND u.${COLUMN_OF[kind]} = $2`,
    ),
  ]),
) as Record<UserLookup['kind'], PreparedStatement<LoginRow>>;

@Injectable()
export class LoginLookup {
  private readonly statements: PreparedStatements;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.statements = new PreparedStatements(dataSource);
  }

  async read(appId: string, lookup: UserLookup, deviceGuid: string | undefined): Promise<LoginRead> {
    const identifier = lookupValue(lookup);
    // No identifier holds a NUL (and PostgreSQL refuses one in text): such a name matches nobody.
    if (typeof identifier === 'string' && identifier.includes('\u0000')) return { user: null, device: null };
    const [row] = await this.statements.rows(loginStatements[lookup.kind], [appId, identifier, deviceGuid ?? null]);
    if (!row) return { user: null, device: null };
    return {
      user: { id: Number(row.id), passwordHash: row.password_hash, status: row.status, securityStamp: row.security_stamp },
      device: row.device_id === null ? null : { id: Number(row.device_id), pushToken: row.device_push_token! },
    };
  }
}
