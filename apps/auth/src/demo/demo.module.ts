import { Module } from '@nestjs/common';
import { DemoSeed } from './demo-seed';
import { AppsModule } from '../apps/apps.module';
import { UsersModule } from '../users/users.module';
import { AdminTokensModule } from '../admin-tokens/admin-tokens.module';

@Module({
  imports: [AppsModule, UsersModule, AdminTokensModule],
  providers: [DemoSeed],
})
export class DemoModule {}
