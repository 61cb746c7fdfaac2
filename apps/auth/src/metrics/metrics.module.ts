import { Module } from '@nestjs/common';
import { AuthMetrics } from './auth-metrics';
import { MetricsController } from './metrics.controller';
import { PasswordHashTiming } from './password-hash-timing';
import { ThrottleModule } from '../throttle/throttle.module';

/**
 * Prometheus metrics: GET /metrics, the request timer (HttpMetricsMiddleware, applied by the root
 * module first in its pipeline) and the password hashing timer.
 */
@Module({
  imports: [ThrottleModule],
  controllers: [MetricsController],
  providers: [AuthMetrics, PasswordHashTiming],
  exports: [AuthMetrics],
})
export class MetricsModule {}
