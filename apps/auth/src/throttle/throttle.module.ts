import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { LoginThrottleEntity } from './login-throttle.entity';
import { PostgresThrottleStore } from './postgres-throttle-store';
import { RedisThrottleStore } from './redis-throttle-store';
import { THROTTLE_STORE } from './throttle-store';
import { LoginThrottle } from './login-throttle';
import { FailoverThrottleStore } from './failover-throttle-store';
import { Scheduler } from '../scheduler/scheduler';
import { SchedulerModule } from '../scheduler/scheduler.module';

/**
 * The login throttle: its flow (LoginThrottle) over a store: PostgreSQL, or with REDIS_URL Redis
 * with PostgreSQL standing in while Redis is down. The store's status is exported for readiness
 * and metrics.
 */
@Module({
  imports: [TypeOrmModule.forFeature([LoginThrottleEntity]), SchedulerModule],
  providers: [
    {
      provide: THROTTLE_STORE,
      inject: [SERVICE_CONFIG, PostgresThrottleStore, Scheduler],
      useFactory: (config: ServiceConfig, postgres: PostgresThrottleStore, scheduler: Scheduler) =>
        config.redisUrl ? new FailoverThrottleStore(new RedisThrottleStore(config), postgres, scheduler, config.intervals.redisProbeMs) : postgres,
    },
    PostgresThrottleStore,
    LoginThrottle,
  ],
  exports: [LoginThrottle, THROTTLE_STORE],
})
export class ThrottleModule {}
