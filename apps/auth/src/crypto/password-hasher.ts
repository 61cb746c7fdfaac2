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
 *
 * A failed verification answers on a common clock. Hashes of other costs (imported bcrypt, argon2
 * with older parameters) take their own time to verify, while an unknown user is checked against a
 * dummy of today's cost: without more, a wrong password for such an account would take longer than
 * for a name that does not exist. So every failure (wrong password, unknown user, unreadable hash)
 * is answered no sooner than the failure floor after its hash started (the wait for a worker is
 * the same for all): the slowest cost among the kinds of hash this process has verified, each the
 * longest of its last COST_SAMPLES runs. A success is never held back. A kind of hash is known once
 * one of its hashes has been verified, or shown to `learnCosts` (at start-up, one hash per kind in
 * the database); until then, the first failure of that kind can be told apart, once.
 */
import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { parseOptions, type Options } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
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
/** What sets a hash's verification cost: bcrypt's cost, or argon2's variant and parameters. */
const COST_PROFILE = /^(\$2[aby]\$\d\d\$|\$argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$)/;
/** Runs remembered per kind of hash: the floor follows the machine's speed, and one slow run ages out. */
const COST_SAMPLES = 8;
/** Kinds of hash remembered: far more than any database holds (each comes from stored hashes). */
const MAX_COST_PROFILES = 64;

/** The part of a stored hash that sets how long verifying it takes; undefined for what no worker reads. */
export function costProfileOf(passwordHash: string): string | undefined {
  const profile = COST_PROFILE.exec(passwordHash)?.[1];
  return profile?.startsWith('$2') ? `$2$${profile.slice(4)}` : profile; // $2a$, $2b$, $2y$ cost the same
}

/** Told about every hash and verification asked of the hasher (the metrics listen). */
export interface HashingObserver {
  /** One ran: `seconds` from the call to its answer, the wait for a worker included. */
  ran(operation: 'hash' | 'verify', seconds: number): void;
  /** A verification was dropped unhashed: its client had hung up while it waited. */
  abandoned(): void;
}

@Injectable()
export class PasswordHasher implements OnModuleInit, OnApplicationShutdown {
  private readonly observers: HashingObserver[] = [];
  private readonly options: Options;
  private dummyHash = '';
  private readonly pool: HashingPool;
  /** Milliseconds of the last runs of each kind of hash, by cost profile. */
  private readonly costs = new Map<string, number[]>();

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    this.options = { algorithm: ARGON2ID, ...config.argon2 };
    const workers = availableParallelism();
    this.pool = new HashingPool(workers, workers * config.hashingQueuePerWorker);
  }

  async onModuleInit(): Promise<void> {
    this.pool.start();
    // Unknown users are verified against this, so they cost exactly what a real user costs.
    this.dummyHash = await this.hash(randomBytes(24).toString('base64'));
    await this.learnCosts([this.dummyHash]);
  }

  /** After the HTTP server has closed, so logins in progress have finished their hashing. */
  async onApplicationShutdown(): Promise<void> {
    await this.pool.close();
  }

  observe(observer: HashingObserver): void {
    this.observers.push(observer);
  }

  /** `client`: whose turn the hash waits in (and, with `gone`, when to drop it), as for `verify`. */
  hash(password: string, client?: HashingClient): Promise<string> {
    return this.observed('hash', () => this.pool.hash(password, this.options, client));
  }

  /**
   * False for a wrong password and for a hash this hasher cannot read. A pool that could not do
   * the work throws HashingUnavailable, a full one HashingSaturated, and one that dropped it
   * because `client.gone()` said nobody waits any more HashingAbandoned: none is a wrong
   * password, nor may count as one. `client` also decides whose turn the job waits in.
   */
  async verify(passwordHash: string, password: string, client?: HashingClient): Promise<boolean> {
    const { matches, startedAt } = await this.observed('verify', () => this.timedVerify(passwordHash, password, client));
    if (!matches) await sleep(Math.max(0, startedAt + this.failureFloorMs() - performance.now()));
    return matches;
  }

  /**
   * Verifies one hash of each kind not known yet (with a random password), so that failures are
   * held to its cost before any login meets one. Give it one stored hash per cost profile.
   */
  async learnCosts(passwordHashes: Iterable<string>): Promise<void> {
    for (const passwordHash of passwordHashes) {
      const profile = costProfileOf(passwordHash);
      if (profile !== undefined && !this.costs.has(profile)) await this.timedVerify(passwordHash, randomBytes(16).toString('base64'));
    }
  }

  /** How long after its hash starts a failed verification answers: the slowest recent run of any kind of hash met. */
  failureFloorMs(): number {
    let floor = 0;
    for (const runs of this.costs.values()) floor = Math.max(floor, ...runs);
    return floor;
  }

  /** The verification, and when its hash started (when it was asked, for a hash no worker reads). */
  private async timedVerify(passwordHash: string, password: string, client?: HashingClient): Promise<{ matches: boolean; startedAt: number }> {
    let startedAt = performance.now();
    const timed: HashingClient = { network: client?.network, gone: client?.gone, started: () => (startedAt = performance.now()) };
    let matches = false;
    try {
      if (passwordHash.startsWith('$argon2')) matches = await this.pool.verifyArgon2(passwordHash, password, timed);
      else if (BCRYPT_PREFIX.test(passwordHash)) matches = await this.pool.verifyBcrypt(passwordHash, password, timed);
    } catch (error) {
      if (error instanceof HashingUnavailable || error instanceof HashingSaturated || error instanceof HashingAbandoned) throw error;
      return { matches: false, startedAt }; // a corrupt stored hash proves nothing; it is never a match
    }
    const profile = costProfileOf(passwordHash);
    if (profile !== undefined) this.recordCost(profile, performance.now() - startedAt);
    return { matches, startedAt };
  }

  private recordCost(profile: string, ms: number): void {
    const runs = this.costs.get(profile) ?? [];
    runs.push(ms);
    if (runs.length > COST_SAMPLES) runs.shift();
    this.costs.delete(profile); // re-inserted last: the kind met longest ago goes first when there are too many
    this.costs.set(profile, runs);
    if (this.costs.size > MAX_COST_PROFILES) this.costs.delete(this.costs.keys().next().value!);
  }

  /** Runs `work`, telling the observers: hashes that ran are timed; dropped, refused (queue full) and undone ones are not. */
  private async observed<T>(operation: 'hash' | 'verify', work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await work();
      for (const observer of this.observers) observer.ran(operation, (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      if (error instanceof HashingAbandoned) for (const observer of this.observers) observer.abandoned();
      else if (!(error instanceof HashingSaturated || error instanceof HashingUnavailable)) {
        for (const observer of this.observers) observer.ran(operation, (performance.now() - started) / 1000);
      }
      throw error;
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
