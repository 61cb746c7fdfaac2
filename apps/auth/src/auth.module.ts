import { DynamicModule, Inject, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SERVICE_CONFIG, ServiceConfigModule, type ServiceConfig } from '@app/config';
import { dataSourceOptions } from './database/data-source-options';
import { TenantsModule } from './tenants/tenants.module';
import { AppGuard } from './callers/app.guard';
import { UsersModule } from './users/users.module';
import { TokenModule } from './token/token.module';
import { CallersModule } from './callers/callers.module';
import { GroupsModule } from './groups/groups.module';
import { AuditModule } from './audit/audit.module';
import { CallerGuard } from './callers/caller.guard';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { HttpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { DemoModule } from './demo/demo.module';
import { DiscoveryModule } from './discovery/discovery.module';
import { ApiExceptionFilter } from './http/api-exception.filter';
import { EnvelopeInterceptor } from './http/envelope.interceptor';
import { createValidationPipe } from './http/validation';

export interface AuthModuleOptions {
  config: ServiceConfig;
  /** The database to use (DATABASE_URL or the embedded one), already migrated. */
  databaseUrl: string;
}

/**
 * The service's root: wires the feature modules and the request pipeline that every route shares:
 * request metrics, the JSON body (http/json-body.ts, read by Fastify after the middleware),
 * AppGuard (the tenant), CallerGuard (who calls), validation, the success envelope and the one
 * exception filter. The request id and the request's log line come before all of it:
 * createHttpApp mounts them first.
 */
@Module({})
export class AuthModule implements NestModule {
  static forRoot({ config, databaseUrl }: AuthModuleOptions): DynamicModule {
    return {
      module: AuthModule,
      imports: [
        ServiceConfigModule.forRoot(config),
        TypeOrmModule.forRoot(dataSourceOptions(databaseUrl, { poolSize: config.dbPoolSize, timeoutMs: config.dbTimeoutMs })),
        TenantsModule,
        UsersModule,
        TokenModule,
        CallersModule,
        GroupsModule,
        AuditModule,
        DemoModule,
        DiscoveryModule,
        HealthModule,
        ...(config.metricsEnabled ? [MetricsModule] : []),
      ],
      providers: [
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        { provide: APP_INTERCEPTOR, useClass: EnvelopeInterceptor },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        // Order matters: the app first, then the caller, who belongs to it.
        { provide: APP_GUARD, useExisting: AppGuard },
        { provide: APP_GUARD, useExisting: CallerGuard },
      ],
    };
  }

  constructor(@Inject(SERVICE_CONFIG) private readonly config: ServiceConfig) {}

  configure(consumer: MiddlewareConsumer): void {
    // Before the body is read, so that a body refused (413, 415) is measured too.
    if (this.config.metricsEnabled) consumer.apply(HttpMetricsMiddleware).forRoutes('{*splat}');
  }
}
