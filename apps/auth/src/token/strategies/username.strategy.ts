import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { ApiError } from '@app/contract';
import { CredentialsVerifier, type ProvenLogin } from '../credentials-verifier';
import { deviceClaimOf, type LoginByUsernameDto } from '../dto/login.dto';
import { checkMobile, usernameKey, type UserLookup } from '../../users/identifiers';
import type { AppEntity } from '../../tenants/app.entity';
import { tenantOf, type ValidatedRequest } from '../../callers/resolved-request';
import { requestClientOf } from '../../callers/client';

/**
 * `POST /token/user`: a username (compared case-insensitively after NFKC) or a mobile number
 * (normalized to E.164 as /token/login does, in the app's default region) + password. The body
 * was validated first, so exactly one of the two is there.
 */
@Injectable()
export class UsernameStrategy extends PassportStrategy(Strategy, 'username') {
  constructor(private readonly credentials: CredentialsVerifier) {
    // `identity` is the DTO's getter for whichever of name / mobile the body has.
    super({ usernameField: 'identity', passwordField: 'password', passReqToCallback: true, session: false });
  }

  validate(request: ValidatedRequest<LoginByUsernameDto>): Promise<ProvenLogin> {
    const body = request.body;
    const app = tenantOf(request);
    return this.credentials.verify(app, lookupOf(app, body), body.password, requestClientOf(request), deviceClaimOf(body));
  }
}

function lookupOf(app: AppEntity, body: LoginByUsernameDto): UserLookup {
  if (body.mobile === undefined) return { kind: 'username', key: usernameKey(body.name!.trim()) };
  const mobile = checkMobile(body.mobile, app.defaultRegion);
  // Not a phone number at all: a malformed parameter, not a failed login.
  if (!mobile.ok) throw new ApiError('BAD_PARAMETER', mobile.reason);
  return { kind: 'mobile', e164: mobile.value };
}
