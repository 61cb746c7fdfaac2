import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { CredentialsVerifier, type ProvenLogin } from '../credentials-verifier';
import { deviceClaimOf, type LoginByUsernameDto } from '../dto/login.dto';
import { usernameKey } from '../../users/identifiers';
import type { ResolvedRequest } from '../../http/request-context';
import { tenantOf } from './tenant-of';
import { requestClientOf } from '../../http/client-ip';

/** `POST /token/user`: username (compared case-insensitively after NFKC) + password. */
@Injectable()
export class UsernameStrategy extends PassportStrategy(Strategy, 'username') {
  constructor(private readonly credentials: CredentialsVerifier) {
    super({ usernameField: 'name', passwordField: 'password', passReqToCallback: true, session: false });
  }

  validate(request: ResolvedRequest): Promise<ProvenLogin> {
    const body = request.body as LoginByUsernameDto;
    return this.credentials.verify(tenantOf(request), { kind: 'username', key: usernameKey(body.name.trim()) }, body.password, requestClientOf(request), deviceClaimOf(body));
  }
}
