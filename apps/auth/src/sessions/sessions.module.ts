import { Module } from '@nestjs/common';
import { SessionRevoker } from './session-revoker';

/** Revoking issued tokens: shared by the token, user and device features. */
@Module({
  providers: [SessionRevoker],
  exports: [SessionRevoker],
})
export class SessionsModule {}
