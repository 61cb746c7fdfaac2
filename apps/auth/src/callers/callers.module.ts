import { Module } from '@nestjs/common';
import { CallerGuard } from './caller.guard';
import { AdminTokensModule } from '../admin-tokens/admin-tokens.module';
import { TokenModule } from '../token/token.module';

@Module({
  imports: [AdminTokensModule, TokenModule],
  providers: [CallerGuard],
  exports: [CallerGuard],
})
export class CallersModule {}
