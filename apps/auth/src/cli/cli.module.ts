import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ServiceConfigModule, type ServiceConfig } from '@app/config';
import { dataSourceOptions } from '../database/data-source-options';
import { TenantsModule } from '../tenants/tenants.module';
import { UsersModule } from '../users/users.module';
import { AdminTokensModule } from '../admin-tokens/admin-tokens.module';
import { SigningKeysModule } from '../signing-keys/signing-keys.module';

/** The operator CLI's slice of the service: the same services, no HTTP. */
@Module({})
export class CliModule {
  static forRoot(config: ServiceConfig, databaseUrl: string): DynamicModule {
    return {
      module: CliModule,
      imports: [
        ServiceConfigModule.forRoot(config),
        TypeOrmModule.forRoot(dataSourceOptions(databaseUrl, { poolSize: 2, timeoutMs: config.dbTimeoutMs })),
        TenantsModule,
        UsersModule,
        AdminTokensModule,
        SigningKeysModule,
      ],
    };
  }
}
