/**
 * Verifies a user access token we issued, for the routes that accept one: signature by a known
 * key (by `kid`), issuer, expiry, the app it was issued for, and its session not revoked. Every
 * refusal is 10008 with a message that says which check failed.
 */
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { decode, verify, TokenExpiredError } from 'jsonwebtoken';
import { Repository } from 'typeorm';
import { ApiError } from '@app/contract';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { SessionEntity } from './session.entity';
import { SigningKeysService, SIGNING_ALGORITHM } from '../signing-keys/signing-keys.service';
import type { AccessTokenClaims } from './token-issuer';

export interface VerifiedAccessToken {
  userId: number;
  jti: string;
  deviceSn: number | undefined;
}

@Injectable()
export class AccessTokenVerifier {
  constructor(
    private readonly signingKeys: SigningKeysService,
    @InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  async verify(token: string, appId: string): Promise<VerifiedAccessToken> {
    const decoded = decode(token, { complete: true });
    const kid = decoded?.header.kid;
    if (!decoded || typeof decoded.payload === 'string' || !kid) throw invalid('access-token is malformed');
    const key = await this.signingKeys.verificationKey(kid);
    if (!key) throw invalid('access-token is signed by an unknown key');

    let claims: AccessTokenClaims & { scope?: string };
    try {
      claims = verify(token, key, { algorithms: [SIGNING_ALGORITHM], issuer: this.config.tokenIssuer }) as typeof claims;
    } catch (error) {
      throw invalid(error instanceof TokenExpiredError ? 'access-token has expired' : 'access-token signature or claims are invalid');
    }
    if (claims.scope !== undefined) throw invalid('access-token is not an access token');
    if (claims.app_id !== appId) throw invalid('access-token was issued for another app');

    // The primary key must be selected too: TypeORM returns no entity without it.
    const session = await this.sessions.findOne({ select: { jti: true, revokedAt: true }, where: { jti: claims.jti } });
    if (!session || session.revokedAt !== null) throw invalid('access-token has been revoked');
    return { userId: Number(claims.sub), jti: claims.jti, deviceSn: claims.device_sn };
  }
}

function invalid(message: string): ApiError {
  return new ApiError('ACCESS_TOKEN_INVALID', message);
}
