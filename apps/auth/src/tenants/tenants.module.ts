import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppEntity } from './app.entity';
import { TenantsService } from './tenants.service';
import { CryptoModule } from '../crypto/crypto.module';

@Module({
  imports: [TypeOrmModule.forFeature([AppEntity]), CryptoModule],
  providers: [TenantsService],
  exports: [TenantsService],
})
export class TenantsModule {}
