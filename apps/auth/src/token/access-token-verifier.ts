/**
 * Verifies a user access token we issued: signature by a known key (by `kid`, retired keys
 * included while their tokens may live), issuer, expiry, that it is an access token (not a store
 * token), the app it was issued for, and its session not revoked. `verify()`, for the routes that
 * accept a token, refuses with 10008 and a message that says which check failed; `checkSigned()`
 * makes every check but the session's and returns the reason instead of throwing, for
 * introspection, which asks about the session in its own statement (token/introspection.ts).
 *
 * Expiry is checked last and answered apart: a token that would be valid but for its `exp` is one
 * the platform's client SDK may replace by logging in again, so `verify()` answers it with 402 (the
 * SDK's re-login signal). Anything else wrong with an expired token (revoked: a kicked device or a
 * banned user; another app's; unknown key) is still the refusal 10008, which the SDK does not
 * answer with a silent login.
 *
 * The signature and the token's shape are checked by libs/jwt's Rs256Jws, the code other
 * services verify our tokens with: strict (RS256 only, canonical base64url), and several times
 * cheaper than jsonwebtoken around the same RSA verification. A token whose signature verified is
 * remembered (libs/jwt's VerifiedTokenCache, with the kid that signed it): the next request with
 * it skips the RSA verification, as long as that key still verifies. The claims are checked on
 * every call, as jsonwebtoken's `verify` did with our options (`nbf` when present, a number; no
 * clock tolerance; then the issuer), except that `exp` is required: see `checkSigned()`.
 */
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PreparedStatements, preparedStatement } from '@app/persistence';
import { ApiError } from '@app/contract';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { Rs256Jws, VerifiedTokenCache, type Rs256Claims, type Rs256Fault } from '@app/jwt';
import { SigningKeysService } from '../signing-keys/signing-keys.service';
import type { AccessTokenClaims } from './token-issuer';

/** Tokens whose signature verified, remembered (a few MB at most). */
const VERIFIED_TOKENS = 4096;

/** Every authenticated call checks its session: a prepared statement (libs/persistence prepared-statements.ts). */
const SESSION_IS_LIVE = preparedStatement<{ live: boolean }>('access-token-session-is-live', 'SELECT revoked_at IS NULL AS live FROM session WHERE jti = $1');

export interface VerifiedAccessToken {
  userId: number;
  jti: string;
  deviceSn: number | undefined;
}

/**
 * The outcome of checking a token: its claims, or which check failed (the 10008 message);
 * `expiredClaims` when the expiry is the only check failed so far.
 */
export type AccessTokenCheck =
  | { valid: true; claims: AccessTokenClaims }
  | { valid: false; reason: string; expiredClaims?: AccessTokenClaims };

const MALFORMED = 'access-token is malformed';
const UNKNOWN_KEY = 'access-token is signed by an unknown key';
const INVALID = 'access-token signature or claims are invalid';
const EXPIRED = 'access-token has expired';
/** The message for each refusal of Rs256Jws (the words clients have always seen). */
const JWS_REFUSALS: Readonly<Record<Rs256Fault, string>> = {
  malformed: MALFORMED,
  'no-kid': MALFORMED,
  'not-rs256': INVALID,
  'unknown-key': UNKNOWN_KEY,
  'bad-signature': INVALID,
};

@Injectable()
export class AccessTokenVerifier {
  private readonly statements: PreparedStatements;
  private readonly jws: Rs256Jws;
  private readonly verified = new VerifiedTokenCache<{ readonly token: string; readonly claims: Rs256Claims; readonly kid: string }>(VERIFIED_TOKENS);

  constructor(
    private readonly signingKeys: SigningKeysService,
    @InjectDataSource() dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {
    this.statements = new PreparedStatements(dataSource);
    this.jws = new Rs256Jws((kid) => signingKeys.loadedVerificationKey(kid));
  }

  /** For the guard: the token's user, 402 when it has only expired, or 10008 saying which check failed. */
  async verify(token: string, appId: string): Promise<VerifiedAccessToken> {
    const checked = await this.check(token, appId);
    if (!checked.valid) throw checked.expiredClaims ? new ApiError('ACCESS_TOKEN_EXPIRED') : new ApiError('ACCESS_TOKEN_INVALID', checked.reason);
    const { claims } = checked;
    return { userId: Number(claims.sub), jti: claims.jti, deviceSn: claims.device_sn };
  }

  /** Every check `verify()` makes, without throwing; an expired token's session is checked too, so "expired" never hides "revoked". */
  async check(token: string, appId: string): Promise<AccessTokenCheck> {
    const checked = await this.checkSigned(token, appId);
    const claims = checked.valid ? checked.claims : checked.expiredClaims;
    if (!claims) return checked;
    const [session] = await this.statements.rows(SESSION_IS_LIVE, [claims.jti]);
    return session?.live ? checked : invalid('access-token has been revoked');
  }

  /** Every check but the session's (no database), without throwing; expiry last (class doc). */
  async checkSigned(token: string, appId: string): Promise<AccessTokenCheck> {
    const verified = await this.verifySignature(token);
    if (typeof verified === 'string') return invalid(JWS_REFUSALS[verified]);

    const { nbf, exp } = verified;
    const now = Math.floor(Date.now() / 1000);
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now)) return invalid(INVALID);
    // Required, unlike jsonwebtoken: our issuer always sets it, so a token without one (or with one
    // that never comes, like 1e999, which JSON reads as Infinity) is not one we issued, and taking
    // it would let whoever could sign mint tokens that never expire.
    if (typeof exp !== 'number' || !Number.isFinite(exp)) return invalid(INVALID);
    // jsonwebtoken skipped the issuer check for an empty TOKEN_ISSUER.
    if (this.config.tokenIssuer && verified.iss !== this.config.tokenIssuer) return invalid(INVALID);
    const claims = verified as unknown as AccessTokenClaims & { scope?: unknown };
    if (claims.scope !== undefined) return invalid('access-token is not an access token');
    if (claims.app_id !== appId) return invalid('access-token was issued for another app');
    if (now >= exp) return { valid: false, reason: EXPIRED, expiredClaims: claims };
    return { valid: true, claims };
  }

  /** The token's claims when its signature verifies (remembered, while its key verifies), else why not. */
  private async verifySignature(token: string): Promise<Rs256Claims | Rs256Fault> {
    const known = this.verified.get(token);
    if (known !== undefined) {
      if (this.signingKeys.loadedVerificationKey(known.kid) !== undefined) return known.claims;
      this.verified.delete(token); // its key was retired for good, or revoked: verified again below, and refused
    }
    let verified = this.jws.verify(token);
    if (verified === 'unknown-key' || verified === 'not-rs256') {
      // A kid not loaded here may be a key another instance has just made: reload (at most once a
      // second) and try once more. The kid decides before the alg, as it did with jsonwebtoken: a
      // token of an unknown kid is "unknown key" whatever its alg, of a known one but not RS256 "invalid".
      if (!(await this.signingKeys.verificationKey(this.jws.rejectedKid))) return 'unknown-key';
      if (verified === 'unknown-key') verified = this.jws.verify(token);
    }
    if (typeof verified !== 'string') this.verified.set({ token, claims: verified, kid: this.jws.verifiedKid });
    return verified;
  }
}

function invalid(reason: string): AccessTokenCheck {
  return { valid: false, reason };
}
