import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { LoginThrottleEntity } from './login-throttle.entity';
import { PostgresThrottleStore } from './postgres-throttle-store';
import { RedisThrottleStore } from './redis-throttle-store';
import { THROTTLE_STORE } from './throttle-store';
import { LoginThrottle } from './login-throttle';

/** The login throttle: its flow (LoginThrottle) over a store, Redis when REDIS_URL is set, else PostgreSQL. */
@Module({
  imports: [TypeOrmModule.forFeature([LoginThrottleEntity])],
  providers: [
    {
      provide: THROTTLE_STORE,
      inject: [SERVICE_CONFIG, PostgresThrottleStore],
      useFactory: (config: ServiceConfig, postgres: PostgresThrottleStore) =>
        config.redisUrl ? new RedisThrottleStore(config) : postgres,
    },
    PostgresThrottleStore,
    LoginThrottle,
  ],
  exports: [LoginThrottle],
})
export class ThrottleModule {}
