import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { CredentialsVerifier, type ProvenLogin } from '../credentials-verifier';
import { deviceClaimOf, type LoginByNameDto } from '../dto/login.dto';
import { classifyLoginName } from '../../users/identifiers';
import { tenantOf, type ValidatedRequest } from '../../callers/resolved-request';
import { requestClientOf } from '../../callers/client';

/** `POST /token/login`: a login name (email if it has `@`, else mobile if it parses, else username) + password. */
@Injectable()
export class LoginNameStrategy extends PassportStrategy(Strategy, 'login-name') {
  constructor(private readonly credentials: CredentialsVerifier) {
    super({ usernameField: 'login_name', passwordField: 'password', passReqToCallback: true, session: false });
  }

  validate(request: ValidatedRequest<LoginByNameDto>): Promise<ProvenLogin> {
    const body = request.body;
    const app = tenantOf(request);
    return this.credentials.verify(app, classifyLoginName(body.login_name, app.defaultRegion), body.password, requestClientOf(request), deviceClaimOf(body));
  }
}
