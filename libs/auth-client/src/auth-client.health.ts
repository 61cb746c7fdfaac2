import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { AuthClient } from './auth-client';

/**
 * For the consuming service's health check (@nestjs/terminus): `down` while the revocation log of
 * one of its apps is older than `maxRevocationStalenessMs`, for its tokens are refused then;
 * `degraded` when they are introspected instead (each request then calls the auth service);
 * `up` otherwise. The details say how old the log is and how many keys are loaded.
 *
 *   @Get('ready') @HealthCheck()
 *   ready() { return this.health.check([() => this.authClient.isHealthy()]); }
 */
@Injectable()
export class AuthClientHealthIndicator {
  constructor(
    private readonly client: AuthClient,
    private readonly indicators: HealthIndicatorService,
  ) {}

  isHealthy<const Key extends string = 'auth-client'>(key: Key = 'auth-client' as Key): HealthIndicatorResult<Key> {
    const health = this.client.verifier.health();
    const indicator = this.indicators.check(key);
    const details = {
      revocationLogAgeSeconds: health.revocationStalenessMs === Infinity ? null : Math.round(health.revocationStalenessMs / 1000),
      maxRevocationStalenessSeconds: Math.round(health.maxRevocationStalenessMs / 1000),
      signingKeys: health.keys,
    };
    if (!health.stale) return indicator.up(details);
    return health.introspectsWhenStale
      ? indicator.degraded({ ...details, message: 'revocation log stale: tokens are introspected' })
      : indicator.down({ ...details, message: 'revocation log stale: tokens are refused' });
  }
}
