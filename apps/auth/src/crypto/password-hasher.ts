/**
 * Password hashing: argon2id in PHC format through @node-rs/argon2, computed in HashingPool's
 * low-priority worker threads, never on the event loop. Parameters come from configuration
 * (OWASP's 19 MiB / t=2 / p=1 by default); a hash made with other parameters is reported stale so
 * the login that proves the password can re-hash it.
 *
 * Users imported from another system may carry bcrypt hashes (`$2a$`, `$2b$`, `$2y$`): those are
 * verified with @node-rs/bcrypt (in the same workers) and, being stale by definition, re-hashed
 * to argon2id by the first login that proves the password. Nothing new is ever hashed with bcrypt.
 * @node-rs/bcrypt is pinned to 1.10.8, the last release with a native binary for every platform
 * (1.10.9 and 2.0.0 ship linux-x64 only: the service would not start on macOS or arm64 images).
 */
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { parseOptions, type Options } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { HashingAbandoned, HashingPool, HashingSaturated, HashingUnavailable, type HashingClient } from './hashing-pool';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';

/** `Algorithm.Argon2id`; the binding declares its enums `const`, which isolated compilers cannot inline. */
const ARGON2ID = 2;

/** The bcrypt variants read; `$2x$` (hashes of the buggy pre-2011 crypt_blowfish) is not one. */
const BCRYPT_PREFIX = /^\$2[aby]\$/;
/** What an import may store: a whole bcrypt hash (cost 04-31, 53 characters of salt and digest)... */
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;
/** ...or a whole argon2id PHC string (B64 salt and digest without padding). */
const ARGON2ID_HASH = /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

@Injectable()
export class PasswordHasher implements OnModuleInit, OnApplicationShutdown {
  private readonly options: Options;
  private dummyHash = '';
  private readonly pool: HashingPool;

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    this.options = { algorithm: ARGON2ID, ...config.argon2 };
    const workers = availableParallelism();
    this.pool = new HashingPool(workers, workers * config.hashingQueuePerWorker);
  }

  async onModuleInit(): Promise<void> {
    this.pool.start();
    // Unknown users are verified against this, so they cost exactly what a real user costs.
    this.dummyHash = await this.hash(randomBytes(24).toString('base64'));
  }

  /** After the HTTP server has closed, so logins in progress have finished their hashing. */
  async onApplicationShutdown(): Promise<void> {
    await this.pool.close();
  }

  /** `client`: whose turn the hash waits in (and, with `gone`, when to drop it), as for `verify`. */
  hash(password: string, client?: HashingClient): Promise<string> {
    return this.pool.hash(password, this.options, client);
  }

  /**
   * False for a wrong password and for a hash this hasher cannot read. A pool that could not do
   * the work throws HashingUnavailable, a full one HashingSaturated, and one that dropped it
   * because `client.gone()` said nobody waits any more HashingAbandoned: none is a wrong
   * password, nor may count as one. `client` also decides whose turn the job waits in.
   */
  async verify(passwordHash: string, password: string, client?: HashingClient): Promise<boolean> {
    try {
      if (passwordHash.startsWith('$argon2')) return await this.pool.verifyArgon2(passwordHash, password, client);
      if (BCRYPT_PREFIX.test(passwordHash)) return await this.pool.verifyBcrypt(passwordHash, password, client);
      return false;
    } catch (error) {
      if (error instanceof HashingUnavailable || error instanceof HashingSaturated || error instanceof HashingAbandoned) throw error;
      return false; // a corrupt stored hash proves nothing; it is never a match
    }
  }

  /** Hashes and verifications running in the workers now, and those waiting for one. */
  load(): { running: number; queued: number } {
    return this.pool.load();
  }

  /** True for a hash `verify` can check, in full: what an import of users may store. */
  isVerifiableHash(passwordHash: string): boolean {
    return BCRYPT_HASH.test(passwordHash) || ARGON2ID_HASH.test(passwordHash);
  }

  /** Spends one verification's time and returns false: the unknown-user path of a login. */
  async verifyNothing(password: string, client?: HashingClient): Promise<false> {
    await this.verify(this.dummyHash, password, client);
    return false;
  }

  /** True when the hash was made with other parameters (or another algorithm) than today's. */
  needsRehash(passwordHash: string): boolean {
    if (!passwordHash.startsWith('$argon2id$')) return true;
    try {
      const used = parseOptions(passwordHash);
      return (
        used.memoryCost !== this.options.memoryCost ||
        used.timeCost !== this.options.timeCost ||
        used.parallelism !== this.options.parallelism
      );
    } catch {
      return true;
    }
  }
}
