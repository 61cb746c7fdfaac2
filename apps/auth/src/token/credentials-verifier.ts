/**
 * Checks a password against a user found by any identifier, shared by the three strategies.
 *
 * Unknown user and wrong password answer the same error after the same work (an unknown user is
 * verified against a dummy hash), so neither the reply nor its timing tells whether an account
 * exists. A banned user learns it is banned only after proving its password. A password longer
 * than the configured maximum is refused before any hashing.
 *
 * Every check is one attempt of the login throttle (throttle/login-throttle.ts), counted before
 * hashing on the identifier named and the client's network; a device that has logged in to the
 * account before and shows its push token is counted apart from the identifier, so strangers'
 * guesses do not lock it out. Without a push token the look-up and the reservation run side by
 * side (one round trip of waiting); with one, the look-up comes first to tell which key to count.
 *
 * What the check proved (the user's status and security stamp, the device as it was) is carried
 * to the session write, which issues nothing if any of it changed meanwhile (login-recorder.ts).
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { ApiError } from '@app/contract';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { UsersService } from '../users/users.service';
import type { UserLookup } from '../users/identifiers';
import { UserStatus } from '../users/user.entity';
import { LoginLookup, type KnownDevice, type LoginRead, type LoginUser } from './login-lookup';
import { hasLoneSurrogate, isPasswordTooLong } from '../users/password-policy';
import { PasswordHasher } from '../crypto/password-hasher';
import type { AppEntity } from '../tenants/app.entity';
import type { RequestClient } from '../callers/client';
import { LoginThrottle } from '../throttle/login-throttle';
import { clientKey, identifierKey, knownDeviceKey } from '../throttle/throttle-policy';

/** The device a login names: its `device_guid`, and the push token it was given, if it shows one. */
export interface DeviceClaim {
  readonly guid: string;
  readonly pushToken?: string;
}

/** A proven login: the user and device as the check found them, for the session write to hold to. */
export interface ProvenLogin {
  readonly user: LoginUser;
  readonly device: KnownDevice | null;
}

@Injectable()
export class CredentialsVerifier {
  private readonly logger = new Logger(CredentialsVerifier.name);

  constructor(
    private readonly users: UsersService,
    private readonly logins: LoginLookup,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  /**
   * The user, once the password is proven. A client that hangs up while its verification waits
   * for a hashing worker has it dropped (HashingAbandoned, the attempt given back): under overload
   * the workers go to logins someone still waits for. Its verification waits in its client's turn
   * (crypto/hashing-pool.ts), so one address cannot hold the queue against the others.
   */
  async verify(app: AppEntity, lookup: UserLookup, password: string, client: RequestClient, device?: DeviceClaim): Promise<ProvenLogin> {
    if (isPasswordTooLong(password, this.config.passwordMaxLength)) {
      throw new ApiError('BAD_PARAMETER', `password must be at most ${this.config.passwordMaxLength} characters`);
    }
    if (hasLoneSurrogate(password)) throw new ApiError('BAD_PARAMETER', 'password must be valid Unicode (it has a lone surrogate)');

    const reading = this.logins.read(app.id, lookup, device?.guid);
    reading.catch(() => undefined); // awaited below, unless the throttle refuses first
    const account = device?.pushToken ? this.knownDeviceKeyOf(app, await reading, device.pushToken) : undefined;
    const keys = { account: account ?? identifierKey(app.id, lookup), client: clientKey(app.id, client.network) };

    let read: LoginRead = { user: null, device: null };
    const matched = await this.throttle.attempt(app, keys, async () => {
      read = await reading;
      return read.user ? this.hasher.verify(read.user.passwordHash, password, client) : this.hasher.verifyNothing(password, client);
    });
    if (!matched || !read.user) throw new ApiError('WRONG_CREDENTIALS');
    if (read.user.status === UserStatus.Banned) throw new ApiError('USER_BANNED');
    const user = this.hasher.needsRehash(read.user.passwordHash) ? await this.rehash(app, read.user, password, client) : read.user;
    return { user, device: read.device };
  }

  /** The known device's key when the push token shown is the one the device holds. */
  private knownDeviceKeyOf(app: AppEntity, read: LoginRead, pushToken: string): string | undefined {
    const known = read.user && read.device;
    if (!known) return undefined;
    const held = Buffer.from(read.device!.pushToken);
    const shown = Buffer.from(pushToken);
    return held.length === shown.length && timingSafeEqual(held, shown) ? knownDeviceKey(app.id, read.device!.id) : undefined;
  }

  /**
   * Upgrades a stale hash, only over the hash this login verified: a password changed meanwhile
   * stays changed (and the session write then refuses this login). A failure here must not fail a
   * login whose password was right.
   */
  private async rehash(app: AppEntity, user: LoginUser, password: string, client: RequestClient): Promise<LoginUser> {
    try {
      // In the client's turn, but not dropped if it hangs up: the proven password is worth keeping.
      const upgraded = await this.hasher.hash(password, { network: client.network });
      const replaced = await this.users.replacePasswordHash(app.id, user.id, user.passwordHash, upgraded);
      return replaced ? { ...user, passwordHash: upgraded } : user;
    } catch (error) {
      this.logger.warn(`Could not re-hash the password of user ${user.id}: ${(error as Error).message}`);
      return user;
    }
  }
}
