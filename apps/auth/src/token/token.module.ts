import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SessionEntity } from './session.entity';
import { TokenController } from './token.controller';
import { TokenVerificationController } from './token-verification.controller';
import { WellKnownController } from './well-known.controller';
import { RevocationLog } from './revocation-log';
import { TokenIssuer } from './token-issuer';
import { StoreTokenSigner } from './store-token';
import { LoginRecorder } from './login-recorder';
import { CredentialsVerifier } from './credentials-verifier';
import { LoginLookup } from './login-lookup';
import { AccessTokenVerifier } from './access-token-verifier';
import { Introspection } from './introspection';
import { OwnTokenRevocation } from './own-token-revocation';
import { SessionPurge } from './session-purge';
import { SessionsModule } from '../sessions/sessions.module';
import { DevicesModule } from '../devices/devices.module';
import { IdStrategy, LoginNameStrategy, UsernameStrategy } from './strategies/login.strategies';
import { UsersModule } from '../users/users.module';
import { SigningKeysModule } from '../signing-keys/signing-keys.module';
import { SigningKeyFollower } from '../signing-keys/signing-key-follower';
import { CryptoModule } from '../crypto/crypto.module';
import { ThrottleModule } from '../throttle/throttle.module';
import { SchedulerModule } from '../scheduler/scheduler.module';

@Module({
  imports: [
    TypeOrmModule.forFeature([SessionEntity]),
    PassportModule.register({ session: false }),
    JwtModule.register({}),
    UsersModule,
    SigningKeysModule,
    CryptoModule,
    ThrottleModule,
    SessionsModule,
    DevicesModule,
    SchedulerModule,
  ],
  controllers: [TokenController, TokenVerificationController, WellKnownController],
  providers: [
    TokenIssuer,
    StoreTokenSigner,
    LoginRecorder,
    CredentialsVerifier,
    LoginLookup,
    AccessTokenVerifier,
    Introspection,
    OwnTokenRevocation,
    SessionPurge,
    RevocationLog,
    IdStrategy,
    LoginNameStrategy,
    UsernameStrategy,
    // Issuing tokens needs the keys of the moment; the CLI, which imports SigningKeysModule alone, does not follow them.
    SigningKeyFollower,
  ],
  exports: [AccessTokenVerifier, TokenIssuer, SessionsModule],
})
export class TokenModule {}
