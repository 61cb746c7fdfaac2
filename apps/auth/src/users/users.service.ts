/**
 * Users of an app: registration (rules from ./identifiers and ./password-policy, uniqueness from
 * the database's constraints), listing and banning. The login reads its user itself (token/login-lookup.ts).
 */
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, Repository } from 'typeorm';
import { ApiError } from '@app/contract';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { uniqueViolation } from '@app/persistence';
import { UserEntity, UserStatus } from './user.entity';
import { checkEmail, checkMobile, checkUsername } from './identifiers';
import { passwordPolicyViolation } from './password-policy';
import type { AppEntity } from '../tenants/app.entity';
import { PasswordHasher } from '../crypto/password-hasher';
import type { HashingClient } from '../crypto/hashing-pool';
import { newUserId } from '../crypto/random-ids';
import { SessionRevoker } from '../sessions/session-revoker';
import { LoginThrottle } from '../throttle/login-throttle';
import { clientKey } from '../throttle/throttle-policy';
import type { RequestClient } from '../callers/client';
import { DeviceRegistry } from '../devices/device-registry';

export interface NewUser {
  username?: string;
  mobile?: string;
  email?: string;
  password: string;
}

/** Which identifier a unique constraint protects, for the 10004 message. */
const CONSTRAINT_FIELDS: Record<string, string> = {
  user_username_unique: 'username',
  user_mobile_unique: 'mobile',
  user_email_unique: 'email',
};

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionRevoker,
    private readonly devices: DeviceRegistry,
    private readonly throttle: LoginThrottle,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  /**
   * Registration by anyone, on an app open to it: one attempt of the login throttle on the
   * client's network, like a failed login. "Already taken" (10004) is what users need to hear and
   * what a prober mapping phone numbers and emails wants to learn, so it keeps its count; a
   * registration that succeeds gives it back, and one refused for its own input (10002) or a busy
   * server counts nothing.
   */
  async registerOpenly(app: AppEntity, input: NewUser, client: RequestClient): Promise<UserEntity> {
    let registered: UserEntity | undefined;
    let taken: ApiError | undefined;
    await this.throttle.attempt(app, { client: clientKey(app.id, client.network) }, async () => {
      try {
        registered = await this.register(app, input, client);
        return true;
      } catch (error) {
        if (!(error instanceof ApiError && error.errorName === 'USER_EXISTS')) throw error;
        taken = error;
        return false;
      }
    });
    if (taken) throw taken;
    return registered!;
  }

  /** Creates a user (10002 names a field that breaks a rule, 10004 an identifier taken), hashing in `client`'s turn. */
  async register(app: AppEntity, input: NewUser, client?: HashingClient): Promise<UserEntity> {
    const identifiers = this.checkIdentifiers(app, input);
    const violation = passwordPolicyViolation(input.password, {
      minLength: app.passwordMinLength,
      maxLength: this.config.passwordMaxLength,
    });
    if (violation) throw new ApiError('BAD_PARAMETER', violation);

    return this.insert(app, identifiers, await this.hasher.hash(input.password, client));
  }

  /**
   * Stores a user brought from another system with the password hash it had there (bcrypt or
   * argon2id; the first login re-hashes it to today's argon2id). Identifiers follow the rules of
   * `register`; the password policy cannot be checked, since the password is not known.
   */
  async importUser(app: AppEntity, input: Omit<NewUser, 'password'> & { passwordHash: string }): Promise<UserEntity> {
    const identifiers = this.checkIdentifiers(app, input);
    if (!this.hasher.isVerifiableHash(input.passwordHash)) {
      throw new ApiError('BAD_PARAMETER', 'password_hash must be a bcrypt ($2a$, $2b$, $2y$) or argon2id PHC hash');
    }
    return this.insert(app, identifiers, input.passwordHash);
  }

  /** Inserts a user under a fresh random id; 10004 names an identifier that is already taken. */
  private async insert(app: AppEntity, identifiers: Partial<UserEntity>, passwordHash: string): Promise<UserEntity> {
    for (let attempt = 0; ; attempt++) {
      try {
        const user = this.users.create({ id: newUserId(), appId: app.id, ...identifiers, passwordHash, status: UserStatus.Normal });
        await this.users.insert(user);
        return user;
      } catch (error) {
        const constraint = uniqueViolation(error);
        if (constraint === undefined) throw error;
        const field = CONSTRAINT_FIELDS[constraint];
        if (field) throw new ApiError('USER_EXISTS', `${field} is already taken`);
        // A random id collided with an existing one (odds about n / 2^53): draw again.
        if (attempt >= 3) throw error;
      }
    }
  }

  /** Whether the app has a user with this id (whatever its status). */
  exists(appId: string, userId: number): Promise<boolean> {
    return this.users.existsBy({ appId, id: userId });
  }

  /**
   * Replaces a stale password hash with an upgraded one of the same password, only while the user
   * still has the hash that was verified: a password changed meanwhile is never written back.
   * Not a change of standing, so the security stamp stays. True when it replaced it.
   */
  async replacePasswordHash(appId: string, userId: number, verifiedHash: string, upgradedHash: string): Promise<boolean> {
    const result = await this.users.update({ appId, id: userId, passwordHash: verifiedHash }, { passwordHash: upgradedHash });
    return result.affected === 1;
  }

  list(appId: string, page: number, pageSize: number): Promise<UserEntity[]> {
    return this.users.find({
      where: { appId },
      order: { createdAt: 'ASC', id: 'ASC' },
      skip: (page - 1) * pageSize,
      take: pageSize,
    });
  }

  /**
   * Bans or re-enables users, all or none: an id that is not a user of this app is 10000 and
   * changes nothing. Banning also revokes the users' live tokens and drops their devices' vendor push tokens.
   */
  async setStatus(appId: string, userIds: number[], status: UserStatus): Promise<void> {
    const ids = [...new Set(userIds)];
    await this.dataSource.transaction(async (manager) => {
      const found = await manager.find(UserEntity, { select: { id: true }, where: { appId, id: In(ids) }, lock: { mode: 'pessimistic_write' } });
      if (found.length !== ids.length) {
        const known = new Set(found.map((user) => user.id));
        const missing = ids.filter((id) => !known.has(id));
        throw new ApiError('USER_NOT_FOUND', `User does not exist: ${missing.join(', ')}`);
      }
      if (status === UserStatus.Banned) {
        // The stamp moves so that logins already past their password check issue nothing.
        await manager.update(UserEntity, { appId, id: In(ids) }, { status, securityStamp: () => 'security_stamp + 1' });
        // The devices before the sessions, as a kick takes them: the other way round, a ban and a
        // kick of one device could each hold what the other waits for.
        await this.devices.unbindVendorPushTokensOf(manager, appId, ids);
        await this.sessions.revoke({ appId, userIds: ids }, manager);
      } else {
        await manager.update(UserEntity, { appId, id: In(ids) }, { status });
      }
    });
  }

  private checkIdentifiers(app: AppEntity, input: Omit<NewUser, 'password'>): Partial<UserEntity> {
    const identifiers: Partial<UserEntity> = { username: null, usernameKey: null, mobile: null, email: null };
    if (input.username != null) {
      const checked = checkUsername(input.username, app.reservedUsernamePrefixes);
      if (!checked.ok) throw new ApiError('BAD_PARAMETER', checked.reason);
      identifiers.username = checked.value.username;
      identifiers.usernameKey = checked.value.key;
    }
    if (input.mobile != null) {
      const checked = checkMobile(input.mobile, app.defaultRegion);
      if (!checked.ok) throw new ApiError('BAD_PARAMETER', checked.reason);
      identifiers.mobile = checked.value;
    }
    if (input.email != null) {
      const checked = checkEmail(input.email);
      if (!checked.ok) throw new ApiError('BAD_PARAMETER', checked.reason);
      identifiers.email = checked.value;
    }
    if (!identifiers.usernameKey && !identifiers.mobile && !identifiers.email) {
      throw new ApiError('BAD_PARAMETER', 'username, mobile or email is required');
    }
    return identifiers;
  }
}
