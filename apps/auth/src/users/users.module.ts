import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UserEntity } from './user.entity';
import { UsersService } from './users.service';
import { UsersController } from './users.controller';
import { AccountController } from './account.controller';
import { AccountService } from './account.service';
import { CryptoModule } from '../crypto/crypto.module';
import { SessionsModule } from '../sessions/sessions.module';
import { DevicesModule } from '../devices/devices.module';
import { AuditModule } from '../audit/audit.module';
import { ThrottleModule } from '../throttle/throttle.module';

@Module({
  imports: [TypeOrmModule.forFeature([UserEntity]), CryptoModule, SessionsModule, DevicesModule, AuditModule, ThrottleModule],
  controllers: [UsersController, AccountController],
  providers: [UsersService, AccountService],
  exports: [UsersService],
})
export class UsersModule {}
