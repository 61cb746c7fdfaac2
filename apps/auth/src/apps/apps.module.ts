import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppEntity } from './app.entity';
import { AppsService } from './apps.service';
import { CryptoModule } from '../crypto/crypto.module';

@Module({
  imports: [TypeOrmModule.forFeature([AppEntity]), CryptoModule],
  providers: [AppsService],
  exports: [AppsService],
})
export class AppsModule {}
