import { DynamicModule, Global, Module } from '@nestjs/common';
import { loadServiceConfig, SERVICE_CONFIG, ServiceConfig } from './service-config';

/**
 * Provides the validated `ServiceConfig` to every module. The entry point loads it before Nest
 * starts (it needs it to reach the database) and hands the same object in here.
 */
@Global()
@Module({})
export class ServiceConfigModule {
  static forRoot(config: ServiceConfig = loadServiceConfig()): DynamicModule {
    return {
      module: ServiceConfigModule,
      providers: [{ provide: SERVICE_CONFIG, useValue: config }],
      exports: [SERVICE_CONFIG],
    };
  }
}
