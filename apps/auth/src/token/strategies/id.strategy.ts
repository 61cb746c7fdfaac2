import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { CredentialsVerifier, type ProvenLogin } from '../credentials-verifier';
import { deviceClaimOf, type LoginByIdDto } from '../dto/login.dto';
import { tenantOf, type ValidatedRequest } from '../../callers/resolved-request';
import { requestClientOf } from '../../callers/client';

/** `POST /token/id`: user ID + password. The body was validated first, so `user_id` is a number. */
@Injectable()
export class IdStrategy extends PassportStrategy(Strategy, 'id') {
  constructor(private readonly credentials: CredentialsVerifier) {
    super({ usernameField: 'user_id', passwordField: 'password', passReqToCallback: true, session: false });
  }

  validate(request: ValidatedRequest<LoginByIdDto>): Promise<ProvenLogin> {
    const body = request.body;
    return this.credentials.verify(tenantOf(request), { kind: 'id', id: body.user_id }, body.password, requestClientOf(request), deviceClaimOf(body));
  }
}
