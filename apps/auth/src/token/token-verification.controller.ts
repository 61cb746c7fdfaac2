import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiError } from '@app/contract';
import { Introspection } from './introspection';
import { RevocationLog } from './revocation-log';
import { IntrospectDto, IntrospectionReply, RevocationPageReply, RevocationsQuery } from './dto/token-verification.dto';
import { OwnTokenRevocation } from './own-token-revocation';
import { ApiEnvelope } from '../http/api-docs';
import { UserRoute, VerifierRoute } from '../callers/route-access';
import { Auth, Tenant, VerifierCredential } from '../callers/resolved-request';
import type { Principal } from '../callers/principal';
import type { AppEntity } from '../tenants/app.entity';

/**
 * For services that check our tokens: ask about one token (introspection, RFC 7662), revoke one,
 * and follow their app's revocation log when verifying locally against the JWKS
 * (WellKnownController). Introspection and the log take an admin token or a verifier token (what a
 * consuming service holds: admin-tokens.service.ts), checked in the one statement each route runs.
 */
@ApiTags('token')
@Controller('token')
export class TokenVerificationController {
  constructor(
    private readonly introspection: Introspection,
    private readonly ownTokens: OwnTokenRevocation,
    private readonly revocations: RevocationLog,
  ) {}

  @Post('introspect')
  @HttpCode(200)
  @VerifierRoute()
  @ApiOperation({
    summary: 'Check an access token (RFC 7662)',
    description:
      'Needs an admin or verifier access-token of the app. A token that is not valid for any reason (malformed, badly signed, expired, ' +
      "revoked, another app's, a store token) is `{active: false}`, never an error.",
  })
  @ApiBody({ type: IntrospectDto })
  @ApiEnvelope(IntrospectionReply)
  introspect(@Tenant() app: AppEntity, @VerifierCredential() credential: string, @Body() body: IntrospectDto): Promise<IntrospectionReply> {
    return this.introspection.introspect(credential, app.id, body.token);
  }

  @Post('revoke')
  @HttpCode(200)
  @UserRoute()
  @ApiOperation({
    summary: 'Revoke the access-token of this call (log out)',
    description:
      "Only a user's own token, without impersonation headers. Takes no body. Effective at once here; in the revocation log for other services. " +
      "The token's device loses its vendor push binding.",
  })
  @ApiEnvelope('boolean')
  async revoke(@Tenant() app: AppEntity, @Auth() principal: Principal, @Body() body: Record<string, unknown>): Promise<boolean> {
    const { caller } = principal;
    if (caller.kind !== 'user' || principal.impersonated) {
      throw new ApiError('NO_PERMISSION', "Only a user's own access-token, without user_id or group_id, can revoke itself");
    }
    // RFC 7009 clients name the token in the body; refusing it beats silently revoking another one.
    if (body.token !== undefined) throw new ApiError('BAD_PARAMETER', 'token in the body is not accepted: the access-token header is revoked');
    await this.ownTokens.revoke(app.id, caller.userId, caller.jti);
    return true;
  }

  @Get('revocations')
  @VerifierRoute()
  @ApiOperation({
    summary: "The app's revocation log: jtis revoked after a cursor",
    description:
      'Needs an admin or verifier access-token of the app. Returns up to 1000 jtis of the app with seq > since whose tokens ' +
      'have not expired, oldest first; call again with `cursor` while a full page comes back.',
  })
  @ApiEnvelope(RevocationPageReply)
  revocationLog(@Tenant() app: AppEntity, @VerifierCredential() credential: string, @Query() query: RevocationsQuery): Promise<RevocationPageReply> {
    return this.revocations.since(credential, app.id, query.since);
  }
}
