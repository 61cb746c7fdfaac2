/**
 * Checks a password against a user found by any identifier, shared by the three strategies.
 *
 * Unknown user and wrong password answer the same error after the same work (an unknown user is
 * verified against a dummy hash), so neither the reply nor its timing tells whether an account
 * exists. A banned user learns it is banned only after proving its password. A password longer
 * than the configured maximum is refused before any hashing.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ApiError } from '@app/contract';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { UsersService, type UserLookup } from '../users/users.service';
import { UserEntity, UserStatus } from '../users/user.entity';
import { isPasswordTooLong } from '../users/password-policy';
import { PasswordHasher } from '../crypto/password-hasher';
import type { AppEntity } from '../apps/app.entity';

@Injectable()
export class CredentialsVerifier {
  private readonly logger = new Logger(CredentialsVerifier.name);

  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  async verify(app: AppEntity, lookup: UserLookup, password: string): Promise<UserEntity> {
    if (isPasswordTooLong(password, this.config.passwordMaxLength)) {
      throw new ApiError('BAD_PARAMETER', `password must be at most ${this.config.passwordMaxLength} characters`);
    }
    const user = await this.users.findForLogin(app.id, lookup);
    const matches = user ? await this.hasher.verify(user.passwordHash, password) : await this.hasher.verifyNothing(password);
    if (!user || !matches) throw new ApiError('WRONG_CREDENTIALS');
    if (user.status === UserStatus.Banned) throw new ApiError('USER_BANNED');
    if (this.hasher.needsRehash(user.passwordHash)) await this.rehash(user, password);
    return user;
  }

  /** Upgrades a stale hash; a failure here must not fail a login whose password was right. */
  private async rehash(user: UserEntity, password: string): Promise<void> {
    try {
      await this.users.replacePasswordHash(user.id, await this.hasher.hash(password));
    } catch (error) {
      this.logger.warn(`Could not re-hash the password of user ${user.id}: ${(error as Error).message}`);
    }
  }
}
