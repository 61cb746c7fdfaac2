/**
 * Verifies a user access token we issued: signature by a known key (by `kid`, retired keys
 * included while their tokens may live), issuer, expiry, that it is an access token (not a store
 * token), the app it was issued for, and its session not revoked. `verify()`, for the routes that
 * accept a token, refuses with 10008 and a message that says which check failed; `check()`, for
 * introspection, returns that reason instead of throwing.
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

/** The outcome of checking a token: its claims, or which check failed (the 10008 message). */
export type AccessTokenCheck = { valid: true; claims: AccessTokenClaims } | { valid: false; reason: string };

@Injectable()
export class AccessTokenVerifier {
  constructor(
    private readonly signingKeys: SigningKeysService,
    @InjectRepository(SessionEntity) private readonly sessions: Repository<SessionEntity>,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  /** For the guard: the token's user, or 10008 saying which check failed. */
  async verify(token: string, appId: string): Promise<VerifiedAccessToken> {
    const checked = await this.check(token, appId);
    if (!checked.valid) throw new ApiError('ACCESS_TOKEN_INVALID', checked.reason);
    const { claims } = checked;
    return { userId: Number(claims.sub), jti: claims.jti, deviceSn: claims.device_sn };
  }

  /** Every check `verify()` makes, without throwing: introspection answers "inactive" instead. */
  async check(token: string, appId: string): Promise<AccessTokenCheck> {
    const decoded = decode(token, { complete: true });
    const kid = decoded?.header.kid;
    if (!decoded || typeof decoded.payload === 'string' || typeof kid !== 'string' || !kid) return invalid('access-token is malformed');
    const key = await this.signingKeys.verificationKey(kid);
    if (!key) return invalid('access-token is signed by an unknown key');

    let claims: AccessTokenClaims & { scope?: string };
    try {
      claims = verify(token, key, { algorithms: [SIGNING_ALGORITHM], issuer: this.config.tokenIssuer }) as typeof claims;
    } catch (error) {
      return invalid(error instanceof TokenExpiredError ? 'access-token has expired' : 'access-token signature or claims are invalid');
    }
    if (claims.scope !== undefined) return invalid('access-token is not an access token');
    if (claims.app_id !== appId) return invalid('access-token was issued for another app');

    // The primary key must be selected too: TypeORM returns no entity without it.
    const session = await this.sessions.findOne({ select: { jti: true, revokedAt: true }, where: { jti: claims.jti } });
    if (!session || session.revokedAt !== null) return invalid('access-token has been revoked');
    return { valid: true, claims };
  }
}

function invalid(reason: string): AccessTokenCheck {
  return { valid: false, reason };
}
