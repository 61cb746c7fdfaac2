import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { ThrottleModule } from '../throttle/throttle.module';

/** Liveness and readiness probes, through @nestjs/terminus; its failure log is one JSON line. */
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), ThrottleModule],
  controllers: [HealthController],
})
export class HealthModule {}
