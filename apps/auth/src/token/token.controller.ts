import { applyDecorators, Controller, createParamDecorator, HttpCode, Post, UseGuards, type ExecutionContext, type Type } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { ApiBody, ApiOperation, ApiTags, type ApiOperationOptions } from '@nestjs/swagger';
import { ApiError } from '@app/contract';
import { TokenIssuer } from './token-issuer';
import { LoginByIdDto, LoginByNameDto, LoginByUsernameDto } from './dto/login.dto';
import { TokenReply } from './dto/token-reply';
import { ValidatedBody } from '../http/validated-body.guard';
import { ApiEnvelope } from '../http/api-docs';
import type { HttpRequest } from '../http/request-context';
import { AnonymousRoute } from '../callers/route-access';
import { Auth, Tenant } from '../callers/resolved-request';
import { actorSubject, type Principal } from '../callers/principal';
import type { AppEntity } from '../tenants/app.entity';
import type { ProvenLogin } from './credentials-verifier';
import type { DeviceLogin } from './login-recorder';

const LOGIN_ERRORS = ['WRONG_CREDENTIALS', 'USER_BANNED', 'TOO_MANY_ATTEMPTS', 'LOGIN_INTERRUPTED', 'SERVER_BUSY'] as const;

/**
 * A login route: anyone may call it; its body is validated as `body` (before Passport, which would
 * answer a malformed one with a bare 401) and documented as that same class; `strategy` proves the password.
 */
function LoginRoute(path: string, body: Type<object>, strategy: string, operation: ApiOperationOptions): MethodDecorator {
  return applyDecorators(
    Post(path),
    HttpCode(200),
    AnonymousRoute(...LOGIN_ERRORS),
    UseGuards(ValidatedBody(body), AuthGuard(strategy)),
    ApiOperation(operation),
    ApiBody({ type: body }),
    ApiEnvelope(TokenReply),
  );
}

/** What the route's Passport strategy proved (Passport keeps it as `request.user`). */
const Proven = createParamDecorator((_data: unknown, context: ExecutionContext) => context.switchToHttp().getRequest<HttpRequest>().user as ProvenLogin);

/** The device the validated body names (`device_guid`), with the client's User-Agent; none without a guid. */
const LoginDevice = createParamDecorator((_data: unknown, context: ExecutionContext): DeviceLogin | undefined => {
  const { body, headers } = context.switchToHttp().getRequest<HttpRequest & { body: { device_guid?: string } }>();
  return body.device_guid ? { deviceGuid: body.device_guid, userAgent: headers['user-agent'] } : undefined;
});

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
@Controller('token')
export class TokenController {
  constructor(private readonly issuer: TokenIssuer) {}

  @LoginRoute('id', LoginByIdDto, 'id', { summary: 'Get a user token by user ID and password' })
  byId(@Tenant() app: AppEntity, @Auth() principal: Principal, @Proven() proven: ProvenLogin, @LoginDevice() device?: DeviceLogin): Promise<TokenReply> {
    return this.issue(app, principal, proven, device);
  }

  @LoginRoute('login', LoginByNameDto, 'login-name', { summary: 'Get a user token by username, mobile number or email, and password' })
  byLoginName(@Tenant() app: AppEntity, @Auth() principal: Principal, @Proven() proven: ProvenLogin, @LoginDevice() device?: DeviceLogin): Promise<TokenReply> {
    return this.issue(app, principal, proven, device);
  }

  @LoginRoute('user', LoginByUsernameDto, 'username', {
    summary: 'Get a user token by username or mobile number, and password',
    description: "Send exactly one of name and mobile; a mobile number is read as on /token/login (E.164, or national in the app's default region).",
  })
  byUsername(@Tenant() app: AppEntity, @Auth() principal: Principal, @Proven() proven: ProvenLogin, @LoginDevice() device?: DeviceLogin): Promise<TokenReply> {
    return this.issue(app, principal, proven, device);
  }

  private issue(app: AppEntity, principal: Principal, proven: ProvenLogin, device: DeviceLogin | undefined): Promise<TokenReply> {
    // On a login route only the user_id header makes the request act as a user (a token alone is ignored).
    if (principal.acting.kind === 'user' && principal.acting.userId !== proven.user.id) {
      throw new ApiError('BAD_PARAMETER', 'The user_id header must name the user the body logs in');
    }
    // Issued during an impersonated call: the token names the real caller (RFC 8693 `act`).
    const actor = principal.impersonated ? actorSubject(principal.caller) : undefined;
    return this.issuer.issue(app, proven, device, actor);
  }
}
