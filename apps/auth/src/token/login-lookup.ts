/**
 * A login's read: the user its identifier names, and the throttle counters of its account and
 * client keys. With the counters in PostgreSQL (the default) both come from one prepared
 * statement, one round trip; with Redis, the user comes from PostgreSQL and the counters from
 * Redis, one round trip each.
 *
 * The account key depends on the look-up's outcome (the user's id when one matched, else the
 * hashed name: throttle-policy.ts accountKey), so the statement builds it from the row it finds.
 */
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PreparedStatements, preparedStatement, type PreparedStatement } from '@app/persistence';
import { UserStatus } from '../users/user.entity';
import type { UserLookup } from '../users/users.service';
import { THROTTLE_STORE, type ThrottleState, type ThrottleStore } from '../throttle/throttle-store';
import { accountKey, ipKey, userKeyPrefix, type ThrottleSettings } from '../throttle/throttle-policy';
import { liveCountersSql, PostgresThrottleStore, throttleStateOf, type CounterRow } from '../throttle/postgres-throttle-store';

/** What a login needs of its user. */
export interface LoginUser {
  id: number;
  passwordHash: string;
  status: UserStatus;
}

export interface LoginRead {
  user: LoginUser | null;
  /** The counters of `accountKey` and `clientKey`. */
  throttle: ThrottleState;
  accountKey: string;
  clientKey: string;
}

interface UserRow {
  id: string;
  password_hash: string;
  status: number;
}

/** The column each kind of identifier is looked up by; each has a unique index per app. */
const COLUMN_OF: Record<UserLookup['kind'], string> = { id: 'id', username: 'username_key', mobile: 'mobile', email: 'email' };

const userStatements = statementsByKind<UserRow>(
  'login-user',
  (column) => `SELECT id, password_hash, status FROM app_user WHERE app_id = $1 AND ${column} = $2`,
);

// $1 app, $2 identifier, $3 the account key's prefix (id appended), $4 the account key when no
// user matches, $5 the client key, $6 the counters' reset period in seconds.
const userAndCountersStatements = statementsByKind<UserRow & { counters: CounterRow[] | null }>(
  'login-user-and-counters',
  (column) => `
  WITH found AS (SELECT id, password_hash, status FROM app_user WHERE app_id = $1 AND ${column} = $2),
       login_keys AS (SELECT COALESCE((SELECT $3::text || found.id FROM found), $4::text) AS account)
  SELECT found.id, found.password_hash, found.status, counters.list AS counters
    FROM login_keys
    LEFT JOIN found ON true
    CROSS JOIN LATERAL (
      SELECT json_agg(live) AS list FROM (${liveCountersSql('ARRAY[login_keys.account, $5::text]', '$6')}) AS live
    ) AS counters`,
);

@Injectable()
export class LoginLookup {
  private readonly statements: PreparedStatements;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    @Inject(THROTTLE_STORE) private readonly throttle: ThrottleStore,
  ) {
    this.statements = new PreparedStatements(dataSource);
  }

  async read(appId: string, lookup: UserLookup, clientNetwork: string, settings: ThrottleSettings): Promise<LoginRead> {
    const clientKey = ipKey(appId, clientNetwork);
    const unmatchedKey = accountKey(appId, undefined, lookup);
    const identifier = identifierOf(lookup);
    // No identifier holds a NUL (and PostgreSQL refuses one in text): such a name matches nobody.
    if (typeof identifier === 'string' && identifier.includes('\u0000')) {
      return { user: null, throttle: await this.throttle.check([unmatchedKey, clientKey], settings), accountKey: unmatchedKey, clientKey };
    }

    if (this.throttle instanceof PostgresThrottleStore) {
      const [row] = await this.statements.rows(userAndCountersStatements[lookup.kind], [
        appId,
        identifier,
        userKeyPrefix(appId),
        unmatchedKey,
        clientKey,
        settings.failureResetSeconds,
      ]);
      const user = row.id === null ? null : loginUserOf(row);
      return { user, throttle: throttleStateOf(row.counters ?? []), accountKey: user ? accountKey(appId, user.id, lookup) : unmatchedKey, clientKey };
    }

    const [row] = await this.statements.rows(userStatements[lookup.kind], [appId, identifier]);
    const user = row ? loginUserOf(row) : null;
    const key = user ? accountKey(appId, user.id, lookup) : unmatchedKey;
    return { user, throttle: await this.throttle.check([key, clientKey], settings), accountKey: key, clientKey };
  }
}

function statementsByKind<Row extends object>(name: string, text: (column: string) => string): Record<UserLookup['kind'], PreparedStatement<Row>> {
  const kinds = Object.keys(COLUMN_OF) as Array<UserLookup['kind']>;
  return Object.fromEntries(kinds.map((kind) => [kind, preparedStatement<Row>(`${name}-by-${kind}`, text(COLUMN_OF[kind]))])) as Record<
    UserLookup['kind'],
    PreparedStatement<Row>
  >;
}

function identifierOf(lookup: UserLookup): string | number {
  switch (lookup.kind) {
    case 'id':
      return lookup.id;
    case 'username':
      return lookup.key;
    case 'mobile':
      return lookup.e164;
    case 'email':
      return lookup.address;
  }
}

function loginUserOf(row: UserRow): LoginUser {
  return { id: Number(row.id), passwordHash: row.password_hash, status: row.status };
}
