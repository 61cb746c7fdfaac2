/**
 * The token interface's Passport strategies, one per login route (under the name its AuthGuard asks
 * for), behind ValidatedBody: each says how the body names the user; CredentialsVerifier proves the password.
 */
import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { ApiError } from '@app/contract';
import { CredentialsVerifier, type ProvenLogin } from '../credentials-verifier';
import { deviceClaimOf, type LoginByIdDto, type LoginByNameDto, type LoginByUsernameDto } from '../dto/login.dto';
import { checkMobile, classifyLoginName, usernameKey, type UserLookup } from '../../users/identifiers';
import type { AppEntity } from '../../tenants/app.entity';
import { tenantOf, type ValidatedRequest } from '../../callers/resolved-request';
import { requestClientOf } from '../../callers/client';

const FIELDS = { passwordField: 'password', passReqToCallback: true, session: false } as const;

/** Proves the body's password for the user `lookupOf` names in the request's app (AppGuard's: read first). */
function prove<Body extends LoginByIdDto | LoginByNameDto | LoginByUsernameDto>(
  credentials: CredentialsVerifier,
  request: ValidatedRequest<Body>,
  lookupOf: (app: AppEntity, body: Body) => UserLookup,
): Promise<ProvenLogin> {
  const { body } = request;
  const app = tenantOf(request);
  return credentials.verify(app, lookupOf(app, body), body.password, requestClientOf(request), deviceClaimOf(body));
}

/** `POST /token/id`: user ID + password; `user_id` is a number once validated. */
@Injectable()
export class IdStrategy extends PassportStrategy(Strategy, 'id') {
  constructor(private readonly credentials: CredentialsVerifier) {
    super({ usernameField: 'user_id', ...FIELDS });
  }

  validate(request: ValidatedRequest<LoginByIdDto>): Promise<ProvenLogin> {
    return prove(this.credentials, request, (_app, body) => ({ kind: 'id', id: body.user_id }));
  }
}

/** `POST /token/login`: a login name (email if it has `@`, else mobile if it parses, else username) + password. */
@Injectable()
export class LoginNameStrategy extends PassportStrategy(Strategy, 'login-name') {
  constructor(private readonly credentials: CredentialsVerifier) {
    super({ usernameField: 'login_name', ...FIELDS });
  }

  validate(request: ValidatedRequest<LoginByNameDto>): Promise<ProvenLogin> {
    return prove(this.credentials, request, (app, body) => classifyLoginName(body.login_name, app.defaultRegion));
  }
}

/**
 * `POST /token/user`: a username (compared case-insensitively after NFKC) or a mobile number
 * (normalized to E.164 as /token/login does, in the app's default region) + password; exactly one
 * of the two, once validated.
 */
@Injectable()
export class UsernameStrategy extends PassportStrategy(Strategy, 'username') {
  constructor(private readonly credentials: CredentialsVerifier) {
    // `identity` is the DTO's getter for whichever of name / mobile the body has.
    super({ usernameField: 'identity', ...FIELDS });
  }

  validate(request: ValidatedRequest<LoginByUsernameDto>): Promise<ProvenLogin> {
    return prove(this.credentials, request, (app, body) => {
      if (body.mobile === undefined) return { kind: 'username', key: usernameKey(body.name!.trim()) };
      const mobile = checkMobile(body.mobile, app.defaultRegion);
      // Not a phone number at all: a malformed parameter, not a failed login.
      if (!mobile.ok) throw new ApiError('BAD_PARAMETER', mobile.reason);
      return { kind: 'mobile', e164: mobile.value };
    });
  }
}
