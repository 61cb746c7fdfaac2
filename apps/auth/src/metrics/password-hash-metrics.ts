/**
 * Feeds `auth_password_hash_seconds` with the time of every hash and verification PasswordHasher
 * runs: logins (the unknown-user path's dummy verification included), registrations, re-hashes;
 * `auth_password_checks_abandoned_total` with the verifications dropped unhashed because their
 * client had hung up; and `auth_password_hash_jobs` with the hashing pool's running and queued jobs.
 */
import { Injectable, OnModuleInit } from '@nestjs/common';
import { PasswordHasher, type HashingObserver } from '../crypto/password-hasher';
import { AuthMetrics } from './auth-metrics';

@Injectable()
export class PasswordHashMetrics implements HashingObserver, OnModuleInit {
  constructor(
    private readonly hasher: PasswordHasher,
    private readonly metrics: AuthMetrics,
  ) {}

  onModuleInit(): void {
    this.hasher.observe(this);
    this.metrics.hashingLoad = () => this.hasher.load();
  }

  ran(operation: 'hash' | 'verify', seconds: number): void {
    this.metrics.passwordHashSeconds.observe({ operation }, seconds);
  }

  abandoned(): void {
    this.metrics.passwordChecksAbandoned.inc();
  }
}
