/**
 * Feeds `auth_password_hash_seconds` with the time of every PasswordHasher.hash and .verify call:
 * logins (the unknown-user path's dummy verification included), registrations, re-hashes; and
 * `auth_password_checks_abandoned_total` with the verifications dropped unhashed because their
 * client had hung up (those are not timed: no hash ran); and `auth_password_hash_jobs` with the
 * hashing pool's running and queued jobs.
 *
 * PasswordHasher has no hook for observers, so at start-up this wraps the two methods of its one
 * instance (CryptoModule's singleton, which every module shares). An observer hook in
 * PasswordHasher itself would make this wrapper unnecessary.
 */
import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { PasswordHasher } from '../crypto/password-hasher';
import { HashingAbandoned, HashingSaturated, HashingUnavailable } from '../crypto/hashing-pool';
import { AuthMetrics } from './auth-metrics';

@Injectable()
export class PasswordHashTiming implements OnModuleInit {
  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly metrics: AuthMetrics,
  ) {}

  onModuleInit(): void {
    const hasher = this.moduleRef.get(PasswordHasher, { strict: false });
    this.metrics.hashingLoad = () => hasher.load();
    const hash = hasher.hash.bind(hasher);
    const verify = hasher.verify.bind(hasher);
    hasher.hash = (password, client) => this.timed('hash', () => hash(password, client));
    hasher.verify = (passwordHash, password, client) => this.timed('verify', () => verify(passwordHash, password, client));
  }

  private async timed<T>(operation: 'hash' | 'verify', work: () => Promise<T>): Promise<T> {
    const stopTimer = this.metrics.passwordHashSeconds.startTimer({ operation });
    let result: T;
    try {
      result = await work();
    } catch (error) {
      // Only hashes that ran are timed: dropped, refused (queue full) and undone ones are not.
      if (error instanceof HashingAbandoned) this.metrics.passwordChecksAbandoned.inc();
      else if (!(error instanceof HashingSaturated || error instanceof HashingUnavailable)) stopTimer();
      throw error;
    }
    stopTimer();
    return result;
  }
}
