import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SigningKeyEntity } from './signing-key.entity';
import { SigningKeysService } from './signing-keys.service';
import { CryptoModule } from '../crypto/crypto.module';
import { SessionsModule } from '../sessions/sessions.module';

@Module({
  imports: [TypeOrmModule.forFeature([SigningKeyEntity]), CryptoModule, SessionsModule],
  providers: [SigningKeysService],
  exports: [SigningKeysService],
})
export class SigningKeysModule {}
