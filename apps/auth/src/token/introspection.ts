/**
 * `POST /token/introspect` in one round trip: the caller's admin or verifier token and the
 * introspected token's session are checked by one statement, after every check that needs no
 * database (signature, expiry, issuer, app). It used to be two: the CallerGuard's look-up of the
 * admin token, then the session's.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PreparedStatements, preparedStatement } from '@app/persistence';
import { AccessTokenVerifier } from './access-token-verifier';
import { IntrospectionReply } from './dto/token-verification.dto';
import { adminTokenHash, verifierCallerRefusal } from '../admin-tokens/admin-tokens.service';

/** The caller's app (null: no live admin or verifier token), and whether the session is live (null: no session, or no jti). */
const INTROSPECT = preparedStatement<{ caller_app: string | null; live: boolean | null }>(
  'token-introspect',
  `SELECT (SELECT app_id FROM admin_token WHERE token_hash = $1 AND revoked_at IS NULL) AS caller_app,
          (SELECT revoked_at IS NULL FROM session WHERE jti = $2) AS live`,
);

@Injectable()
export class Introspection {
  private readonly statements: PreparedStatements;

  constructor(
    private readonly verifier: AccessTokenVerifier,
    @InjectDataSource() dataSource: DataSource,
  ) {
    this.statements = new PreparedStatements(dataSource);
  }

  /** RFC 7662's answer about `token` for the holder of `credential`, an admin or verifier token of `appId`. */
  async introspect(credential: string, appId: string, token: string): Promise<IntrospectionReply> {
    const checked = await this.verifier.checkSigned(token, appId);
    const jti = checked.valid ? checked.claims.jti : null;
    const [row] = await this.statements.rows(INTROSPECT, [adminTokenHash(credential), jti]);
    const refusal = verifierCallerRefusal(row.caller_app, appId);
    if (refusal) throw refusal;
    return checked.valid && row.live === true ? IntrospectionReply.of(checked.claims) : IntrospectionReply.inactive();
  }
}
