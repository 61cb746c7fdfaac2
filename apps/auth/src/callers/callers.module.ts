import { Module } from '@nestjs/common';
import { CallerGuard } from './caller.guard';
import { AdminTokensModule } from '../admin-tokens/admin-tokens.module';
import { TokenModule } from '../token/token.module';
import { UsersModule } from '../users/users.module';
import { GroupsModule } from '../groups/groups.module';
import { AuditModule } from '../audit/audit.module';

@Module({
  imports: [AdminTokensModule, TokenModule, UsersModule, GroupsModule, AuditModule],
  providers: [CallerGuard],
  exports: [CallerGuard],
})
export class CallersModule {}
