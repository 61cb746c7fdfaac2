import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { CredentialsVerifier, type ProvenLogin } from '../credentials-verifier';
import { deviceClaimOf, type LoginByIdDto } from '../dto/login.dto';
import type { ResolvedRequest } from '../../http/request-context';
import { tenantOf } from './tenant-of';
import { requestClientOf } from '../../http/client-ip';

/** `POST /token/id`: user ID + password. The body was validated first, so `user_id` is a number. */
@Injectable()
export class IdStrategy extends PassportStrategy(Strategy, 'id') {
  constructor(private readonly credentials: CredentialsVerifier) {
    super({ usernameField: 'user_id', passwordField: 'password', passReqToCallback: true, session: false });
  }

  validate(request: ResolvedRequest): Promise<ProvenLogin> {
    const body = request.body as LoginByIdDto;
    return this.credentials.verify(tenantOf(request), { kind: 'id', id: body.user_id }, body.password, requestClientOf(request), deviceClaimOf(body));
  }
}
