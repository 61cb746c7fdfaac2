import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { LoginThrottleEntity } from './login-throttle.entity';
import { PostgresThrottleStore } from './postgres-throttle-store';
import { RedisThrottleStore } from './redis-throttle-store';
import { THROTTLE_STORE } from './throttle-store';
import { LoginThrottle } from './login-throttle';
import { FailoverThrottleStore } from './failover-throttle-store';

/**
 * The login throttle: its flow (LoginThrottle) over a store: PostgreSQL, or with REDIS_URL Redis
 * with PostgreSQL standing in while Redis is down. The store's status is exported for readiness
 * and metrics.
 */
@Module({
  imports: [TypeOrmModule.forFeature([LoginThrottleEntity])],
  providers: [
    {
      provide: THROTTLE_STORE,
      inject: [SERVICE_CONFIG, PostgresThrottleStore],
      useFactory: (config: ServiceConfig, postgres: PostgresThrottleStore) =>
        config.redisUrl ? new FailoverThrottleStore(new RedisThrottleStore(config), postgres) : postgres,
    },
    PostgresThrottleStore,
    LoginThrottle,
  ],
  exports: [LoginThrottle, THROTTLE_STORE],
})
export class ThrottleModule {}
