import { Module } from '@nestjs/common';
import { AppGuard } from './app.guard';
import { CallerGuard } from './caller.guard';
import { CallerResolver } from './caller-resolver';
import { TenantsModule } from '../tenants/tenants.module';
import { AdminTokensModule } from '../admin-tokens/admin-tokens.module';
import { TokenModule } from '../token/token.module';
import { UsersModule } from '../users/users.module';
import { GroupsModule } from '../groups/groups.module';
import { AuditModule } from '../audit/audit.module';

/** Who is calling, for which app, from where: the two global guards and the rules they apply. */
@Module({
  imports: [TenantsModule, AdminTokensModule, TokenModule, UsersModule, GroupsModule, AuditModule],
  providers: [AppGuard, CallerGuard, CallerResolver],
  exports: [AppGuard, CallerGuard],
})
export class CallersModule {}
