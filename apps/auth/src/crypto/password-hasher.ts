/**
 * Password hashing: argon2id in PHC format through @node-rs/argon2, whose async calls run on
 * libuv's thread pool, never on the event loop. Parameters come from configuration (OWASP's
 * 19 MiB / t=2 / p=1 by default); a hash made with other parameters is reported stale so the
 * login that proves the password can re-hash it.
 */
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { hash, parseOptions, verify, type Options } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';

/** `Algorithm.Argon2id`; the binding declares its enums `const`, which isolated compilers cannot inline. */
const ARGON2ID = 2;

@Injectable()
export class PasswordHasher implements OnModuleInit {
  private readonly options: Options;
  private dummyHash = '';

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    this.options = { algorithm: ARGON2ID, ...config.argon2 };
  }

  async onModuleInit(): Promise<void> {
    // Unknown users are verified against this, so they cost exactly what a real user costs.
    this.dummyHash = await this.hash(randomBytes(24).toString('base64'));
  }

  hash(password: string): Promise<string> {
    return hash(password, this.options);
  }

  /** False for a wrong password and for a hash this hasher cannot read. */
  async verify(passwordHash: string, password: string): Promise<boolean> {
    if (!passwordHash.startsWith('$argon2')) return false;
    try {
      return await verify(passwordHash, password);
    } catch {
      return false; // a corrupt stored hash proves nothing; it is never a match
    }
  }

  /** Spends one verification's time and returns false: the unknown-user path of a login. */
  async verifyNothing(password: string): Promise<false> {
    await this.verify(this.dummyHash, password);
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
