import { Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiError } from '@app/contract';
import { TokenIssuer } from './token-issuer';
import { LoginByIdDto, LoginByNameDto, LoginByUsernameDto } from './dto/login.dto';
import { TokenReply } from './dto/token-reply';
import { ValidatedBody } from '../http/validated-body.guard';
import { ApiEnvelope, ApiErrors, PlatformHeaders } from '../http/api-docs.decorators';
import { Access } from '../http/route-access';
import type { ResolvedRequest } from '../http/request-context';
import type { ProvenLogin } from './credentials-verifier';
import { actorSubject } from '../callers/principal';

const LOGIN_ERRORS = ['WRONG_CREDENTIALS', 'USER_BANNED', 'TOO_MANY_ATTEMPTS', 'LOGIN_INTERRUPTED', 'SERVER_BUSY'] as const;

/**
 * The token interface: three ways to prove a password, one reply. Each route validates its body
 * (ValidatedBody), then its Passport strategy proves the credentials and yields the user; the
 * handler only issues the tokens. Any `access-token` sent along is ignored: client SDKs re-send
 * a stale one when they log in again.
 *
 * With the `user_id` header (an admin, or a group owner or admin, logging a user in on their
 * behalf) the body must log in that very user: the call is audited as acting for the header's user
 * and the token names the real caller, so a token for anyone else is refused (10002), not issued
 * under an audit row that names someone else.
 */
@ApiTags('token')
@PlatformHeaders()
@Access('anonymous')
@Controller('token')
export class TokenController {
  constructor(private readonly issuer: TokenIssuer) {}

  @Post('id')
  @HttpCode(200)
  @UseGuards(ValidatedBody(LoginByIdDto), AuthGuard('id'))
  @ApiOperation({ summary: 'Get a user token by user ID and password' })
  @ApiBody({ type: LoginByIdDto })
  @ApiEnvelope(TokenReply)
  @ApiErrors(...LOGIN_ERRORS)
  byId(@Req() request: ResolvedRequest): Promise<TokenReply> {
    return this.issue(request);
  }

  @Post('login')
  @HttpCode(200)
  @UseGuards(ValidatedBody(LoginByNameDto), AuthGuard('login-name'))
  @ApiOperation({ summary: 'Get a user token by username, mobile number or email, and password' })
  @ApiBody({ type: LoginByNameDto })
  @ApiEnvelope(TokenReply)
  @ApiErrors(...LOGIN_ERRORS)
  byLoginName(@Req() request: ResolvedRequest): Promise<TokenReply> {
    return this.issue(request);
  }

  @Post('user')
  @HttpCode(200)
  @UseGuards(ValidatedBody(LoginByUsernameDto), AuthGuard('username'))
  @ApiOperation({
    summary: 'Get a user token by username or mobile number, and password',
    description: "Send exactly one of name and mobile; a mobile number is read as on /token/login (E.164, or national in the app's default region).",
  })
  @ApiBody({ type: LoginByUsernameDto })
  @ApiEnvelope(TokenReply)
  @ApiErrors(...LOGIN_ERRORS)
  byUsername(@Req() request: ResolvedRequest): Promise<TokenReply> {
    return this.issue(request);
  }

  private issue(request: ResolvedRequest): Promise<TokenReply> {
    const body = request.body as { device_guid?: string };
    const proven = request.user as ProvenLogin;
    const acting = request.principal?.acting;
    // On a login route only the user_id header makes the request act as a user (a token alone is ignored).
    if (acting?.kind === 'user' && acting.userId !== proven.user.id) {
      throw new ApiError('BAD_PARAMETER', 'The user_id header must name the user the body logs in');
    }
    const device = body.device_guid ? { deviceGuid: body.device_guid, userAgent: request.headers['user-agent'] } : undefined;
    // Issued during an impersonated call: the token names the real caller (RFC 8693 `act`).
    const actor = request.principal?.impersonated ? actorSubject(request.principal.caller) : undefined;
    return this.issuer.issue(request.tenant!, proven, device, actor);
  }
}
