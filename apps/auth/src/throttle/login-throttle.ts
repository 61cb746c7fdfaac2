/**
 * The login throttle's flow, for every route that proves a password (the three login routes,
 * change_password, delete) and for open registration (whose "already taken" answers are probes
 * too): reserve an attempt on its keys before any hashing (10103 with
 * Retry-After when one must wait), then settle it by what the check found.
 *
 * An attempt counts when it starts, so a burst of parallel guesses gets no more checks than the
 * same guesses sent one by one: the free attempts and one more, then everyone waits. What did not
 * end in a wrong password is given back: a right password clears the identifier's (or device's)
 * count and gives the client's attempt back (never clears it: an attacker could otherwise reset
 * its address's count with logins of an account of its own between guesses); a check that never
 * ran (the client hung up, the server was busy, a fault) gives both back.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ApiError } from '@app/contract';
import type { AppEntity } from '../tenants/app.entity';
import { THROTTLE_STORE, type ThrottleStore } from './throttle-store';
import { reservationRule, throttleSettingsOf } from './throttle-policy';

/** The keys an attempt counts on (throttle-policy.ts builds them). */
export interface AttemptKeys {
  /** The identifier named, or the known device the attempt comes from; none for an open registration. */
  readonly account?: string;
  /** The client's network. */
  readonly client: string;
}

@Injectable()
export class LoginThrottle {
  private readonly logger = new Logger(LoginThrottle.name);

  constructor(@Inject(THROTTLE_STORE) private readonly store: ThrottleStore) {}

  /**
   * Runs `check` (a password verification: true when it matched) as one counted attempt. Throws
   * 10103 without running it when a key must wait; rethrows what `check` throws, with the attempt
   * given back.
   */
  async attempt(app: AppEntity, keys: AttemptKeys, check: () => Promise<boolean>): Promise<boolean> {
    await this.reserve(app, keys);
    let matched: boolean;
    try {
      matched = await check();
    } catch (error) {
      await this.settle([], [...accountOf(keys), keys.client]);
      throw error;
    }
    if (matched) await this.settle(accountOf(keys), [keys.client]);
    return matched;
  }

  /** A count left standing is safe (the key waits sooner); a proven password must not fail for it. */
  private async settle(clear: string[], giveBack: string[]): Promise<void> {
    try {
      await this.store.settle(clear, giveBack);
    } catch (error) {
      this.logger.warn(`Could not settle a login attempt's throttle count: ${(error as Error).message}`);
    }
  }

  private async reserve(app: AppEntity, keys: AttemptKeys): Promise<void> {
    const settings = throttleSettingsOf(app);
    const waitSeconds = await this.store.reserve(
      [
        ...accountOf(keys).map((key) => ({ key, freeFailures: settings.accountFreeFailures })),
        { key: keys.client, freeFailures: settings.ipFreeFailures },
      ],
      reservationRule(settings),
    );
    if (waitSeconds > 0) {
      const retryAfter = Math.max(1, Math.ceil(waitSeconds));
      throw new ApiError('TOO_MANY_ATTEMPTS', `Too many failed attempts, try again in ${retryAfter} s`, { 'Retry-After': String(retryAfter) });
    }
  }
}

function accountOf(keys: AttemptKeys): string[] {
  return keys.account === undefined ? [] : [keys.account];
}
