import { Module } from '@nestjs/common';
import { PasswordHasher } from './password-hasher';
import { SecretBox } from './secret-box';

@Module({
  providers: [PasswordHasher, SecretBox],
  exports: [PasswordHasher, SecretBox],
})
export class CryptoModule {}
