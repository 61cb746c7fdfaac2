/**
 * Verifies a user access token we issued: signature by a known key (by `kid`, retired keys
 * included while their tokens may live), issuer, expiry, that it is an access token (not a store
 * token), the app it was issued for, and its session not revoked. `verify()`, for the routes that
 * accept a token, refuses with 10008 and a message that says which check failed; `check()`, for
 * introspection, returns that reason instead of throwing.
 */
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { decode, verify, TokenExpiredError } from 'jsonwebtoken';
import { DataSource } from 'typeorm';
import { PreparedStatements, preparedStatement } from '@app/persistence';
import { ApiError } from '@app/contract';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { SigningKeysService, SIGNING_ALGORITHM } from '../signing-keys/signing-keys.service';
import type { AccessTokenClaims } from './token-issuer';

/** Every authenticated call checks its session: a prepared statement (libs/persistence prepared-statements.ts). */
const SESSION_IS_LIVE = preparedStatement<{ live: boolean }>('access-token-session-is-live', 'SELECT revoked_at IS NULL AS live FROM session WHERE jti = $1');

export interface VerifiedAccessToken {
  userId: number;
  jti: string;
  deviceSn: number | undefined;
}

/** The outcome of checking a token: its claims, or which check failed (the 10008 message). */
export type AccessTokenCheck = { valid: true; claims: AccessTokenClaims } | { valid: false; reason: string };

@Injectable()
export class AccessTokenVerifier {
  private readonly statements: PreparedStatements;

  constructor(
    private readonly signingKeys: SigningKeysService,
    @InjectDataSource() dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {
    this.statements = new PreparedStatements(dataSource);
  }

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

    const [session] = await this.statements.rows(SESSION_IS_LIVE, [claims.jti]);
    if (!session?.live) return invalid('access-token has been revoked');
    return { valid: true, claims };
  }
}

function invalid(reason: string): AccessTokenCheck {
  return { valid: false, reason };
}
