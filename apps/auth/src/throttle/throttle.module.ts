import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoginThrottleEntity } from './login-throttle.entity';
import { LoginThrottle } from './login-throttle';

@Module({
  imports: [TypeOrmModule.forFeature([LoginThrottleEntity])],
  providers: [LoginThrottle],
  exports: [LoginThrottle],
})
export class ThrottleModule {}
