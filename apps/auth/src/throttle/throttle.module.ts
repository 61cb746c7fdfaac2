import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { LoginThrottleEntity } from './login-throttle.entity';
import { PostgresThrottleStore } from './postgres-throttle-store';
import { RedisThrottleStore } from './redis-throttle-store';
import { THROTTLE_STORE } from './throttle-store';

/** The login throttle's counter store: Redis when REDIS_URL is set, else PostgreSQL. */
@Module({
  imports: [TypeOrmModule.forFeature([LoginThrottleEntity])],
  providers: [
    {
      provide: THROTTLE_STORE,
      inject: [SERVICE_CONFIG, { token: PostgresThrottleStore, optional: false }],
      useFactory: (config: ServiceConfig, postgres: PostgresThrottleStore) =>
        config.redisUrl ? new RedisThrottleStore(config) : postgres,
    },
    PostgresThrottleStore,
  ],
  exports: [THROTTLE_STORE],
})
export class ThrottleModule {}
