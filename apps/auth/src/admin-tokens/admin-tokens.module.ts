import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminTokenEntity } from './admin-token.entity';
import { AdminTokensService } from './admin-tokens.service';

@Module({
  imports: [TypeOrmModule.forFeature([AdminTokenEntity])],
  providers: [AdminTokensService],
  exports: [AdminTokensService],
})
export class AdminTokensModule {}
