/**
 * Checks a password against a user found by any identifier, shared by the three strategies.
 *
 * Unknown user and wrong password answer the same error after the same work (an unknown user is
 * verified against a dummy hash), so neither the reply nor its timing tells whether an account
 * exists. A banned user learns it is banned only after proving its password. A password longer
 * than the configured maximum is refused before any hashing.
 *
 * The login throttle (throttle/throttle-policy.ts) is read with the look-up (login-lookup.ts), so
 * that the account's counter is the user's whichever route or identifier was used, and before
 * hashing, so a throttled guess costs the server one query and no argon2 work. Concurrent guesses that all
 * pass the check before any failure is recorded are counted afterwards: a burst buys its size in
 * guesses once, then waits at the cap.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ApiError } from '@app/contract';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { UsersService, type UserLookup } from '../users/users.service';
import { UserStatus } from '../users/user.entity';
import { LoginLookup, type LoginUser } from './login-lookup';
import { hasLoneSurrogate, isPasswordTooLong } from '../users/password-policy';
import { PasswordHasher } from '../crypto/password-hasher';
import type { AppEntity } from '../apps/app.entity';
import type { RequestClient } from '../http/client-ip';
import { THROTTLE_STORE, type ThrottleStore } from '../throttle/throttle-store';
import { throttleSettingsOf } from '../throttle/throttle-policy';

@Injectable()
export class CredentialsVerifier {
  private readonly logger = new Logger(CredentialsVerifier.name);

  constructor(
    private readonly users: UsersService,
    private readonly logins: LoginLookup,
    private readonly hasher: PasswordHasher,
    @Inject(THROTTLE_STORE) private readonly throttle: ThrottleStore,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  /**
   * The user, once the password is proven. A client that hangs up while its verification waits
   * for a hashing worker has it dropped (HashingAbandoned, nothing counted): under overload the
   * workers go to logins someone still waits for. Its verification waits in its client's turn
   * (crypto/hashing-pool.ts), so one address cannot hold the queue against the others.
   */
  async verify(app: AppEntity, lookup: UserLookup, password: string, client: RequestClient): Promise<LoginUser> {
    if (isPasswordTooLong(password, this.config.passwordMaxLength)) {
      throw new ApiError('BAD_PARAMETER', `password must be at most ${this.config.passwordMaxLength} characters`);
    }
    if (hasLoneSurrogate(password)) throw new ApiError('BAD_PARAMETER', 'password must be valid Unicode (it has a lone surrogate)');
    const settings = throttleSettingsOf(app);
    const { user, throttle: throttled, accountKey: account, clientKey: clientAddress } = await this.logins.read(app.id, lookup, client.ip, settings);
    if (throttled.waitSeconds > 0) {
      const retryAfter = Math.max(1, Math.ceil(throttled.waitSeconds));
      throw new ApiError('TOO_MANY_ATTEMPTS', `Too many failed logins, try again in ${retryAfter} s`, { 'Retry-After': String(retryAfter) });
    }

    const matches = user
      ? await this.hasher.verify(user.passwordHash, password, client)
      : await this.hasher.verifyNothing(password, client);
    if (!user || !matches) {
      await this.throttle.recordFailure(
        [
          { key: account, freeFailures: app.loginFreeFailures },
          { key: clientAddress, freeFailures: app.loginIpFreeFailures },
        ],
        settings,
      );
      throw new ApiError('WRONG_CREDENTIALS');
    }
    // A proven password clears the account's count (never the IP's: an attacker could reset it
    // with logins of its own account between guesses).
    if (throttled.counted.has(account)) await this.throttle.reset(account);
    if (user.status === UserStatus.Banned) throw new ApiError('USER_BANNED');
    if (this.hasher.needsRehash(user.passwordHash)) await this.rehash(user, password, client);
    return user;
  }

  /** Upgrades a stale hash; a failure here must not fail a login whose password was right. */
  private async rehash(user: LoginUser, password: string, client: RequestClient): Promise<void> {
    try {
      // In the client's turn, but not dropped if it hangs up: the proven password is worth keeping.
      await this.users.replacePasswordHash(user.id, await this.hasher.hash(password, { ip: client.ip }));
    } catch (error) {
      this.logger.warn(`Could not re-hash the password of user ${user.id}: ${(error as Error).message}`);
    }
  }
}
