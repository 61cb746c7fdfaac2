import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiError } from '@app/contract';
import { AccessTokenVerifier } from './access-token-verifier';
import { RevocationLog } from './revocation-log';
import { IntrospectDto, IntrospectionReply, RevocationPageReply, RevocationsQuery } from './dto/token-verification.dto';
import { SessionRevoker } from '../sessions/session-revoker';
import { ApiEnvelope, ApiErrors, PlatformHeaders } from '../http/api-docs.decorators';
import { Access } from '../http/route-access';
import { Tenant } from '../http/tenant.decorator';
import { Auth } from '../callers/auth.decorator';
import type { Principal } from '../callers/principal';
import type { AppEntity } from '../apps/app.entity';

/**
 * For services that check our tokens: ask about one token (introspection, RFC 7662), revoke one,
 * and follow the revocation log when verifying locally against the JWKS (WellKnownController).
 */
@ApiTags('token')
@Controller('token')
export class TokenVerificationController {
  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly revoker: SessionRevoker,
    private readonly revocations: RevocationLog,
  ) {}

  @Post('introspect')
  @HttpCode(200)
  @Access('admin')
  @PlatformHeaders()
  @ApiOperation({
    summary: 'Check an access token (RFC 7662)',
    description:
      'Needs an admin access-token of the app. A token that is not valid for any reason (malformed, badly signed, expired, ' +
      "revoked, another app's, a store token) is `{active: false}`, never an error.",
  })
  @ApiBody({ type: IntrospectDto })
  @ApiEnvelope(IntrospectionReply)
  @ApiErrors('ACCESS_TOKEN_MISSING', 'ACCESS_TOKEN_INVALID', 'NO_PERMISSION')
  async introspect(@Tenant() app: AppEntity, @Body() body: IntrospectDto): Promise<IntrospectionReply> {
    const checked = await this.verifier.check(body.token, app.id);
    return checked.valid ? IntrospectionReply.of(checked.claims) : IntrospectionReply.inactive();
  }

  @Post('revoke')
  @HttpCode(200)
  @Access('user')
  @PlatformHeaders()
  @ApiOperation({
    summary: 'Revoke the access-token of this call (log out)',
    description: "Only a user's own token, without impersonation headers. Takes no body. Effective at once here; in the revocation log for other services.",
  })
  @ApiEnvelope('boolean')
  @ApiErrors('ACCESS_TOKEN_MISSING', 'ACCESS_TOKEN_INVALID', 'NO_PERMISSION')
  async revoke(@Tenant() app: AppEntity, @Auth() principal: Principal, @Body() body: Record<string, unknown>): Promise<boolean> {
    const { caller } = principal;
    if (caller.kind !== 'user' || principal.impersonated) {
      throw new ApiError('NO_PERMISSION', "Only a user's own access-token, without user_id or group_id, can revoke itself");
    }
    // RFC 7009 clients name the token in the body; refusing it beats silently revoking another one.
    if (body.token !== undefined) throw new ApiError('BAD_PARAMETER', 'token in the body is not accepted: the access-token header is revoked');
    await this.revoker.revoke({ appId: app.id, jti: caller.jti });
    return true;
  }

  @Get('revocations')
  @Access('none')
  @ApiOperation({
    summary: 'The revocation log: jtis revoked after a cursor',
    description:
      'No app_id and no token: jtis are not secrets. Returns up to 1000 jtis with seq > since whose tokens have not expired, ' +
      'oldest first; call again with `cursor` while a full page comes back.',
  })
  @ApiEnvelope(RevocationPageReply)
  @ApiResponse({ status: 400, description: '10002: since is not a non-negative integer (HTTP 200 with this body by default; HTTP 400 with ERROR_HTTP_STATUS=mirror)' })
  revocationLog(@Query() query: RevocationsQuery): Promise<RevocationPageReply> {
    return this.revocations.since(query.since);
  }
}
