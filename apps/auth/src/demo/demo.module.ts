import { Module } from '@nestjs/common';
import { DemoSeed } from './demo-seed';
import { TenantsModule } from '../tenants/tenants.module';
import { UsersModule } from '../users/users.module';
import { AdminTokensModule } from '../admin-tokens/admin-tokens.module';

@Module({
  imports: [TenantsModule, UsersModule, AdminTokensModule],
  providers: [DemoSeed],
})
export class DemoModule {}
