import { Module } from '@nestjs/common';
import { AuthMetrics } from './auth-metrics';
import { MetricsController } from './metrics.controller';
import { PasswordHashMetrics } from './password-hash-metrics';
import { CryptoModule } from '../crypto/crypto.module';
import { ThrottleModule } from '../throttle/throttle.module';

/**
 * Prometheus metrics: GET /metrics, the request timer (HttpMetricsMiddleware, applied by the root
 * module first in its pipeline) and the password hashing timer.
 */
@Module({
  imports: [ThrottleModule, CryptoModule],
  controllers: [MetricsController],
  providers: [AuthMetrics, PasswordHashMetrics],
  exports: [AuthMetrics],
})
export class MetricsModule {}
