/**
 * `POST /token/introspect`: the caller's admin or verifier token and the introspected token's
 * session are checked by one statement, after every check that needs no database (signature,
 * expiry, issuer, app). It used to be two (the CallerGuard's look-up of the admin token, then the
 * session's).
 *
 * Concurrent calls share that statement: under load most of its cost is the round trip itself (the
 * driver's work per query, its write to the socket), not its two index look-ups, so the calls that
 * reach it within one turn of the event loop are answered by one execution, a row each
 * (libs/persistence batched-lookup.ts). A call still costs at most one round trip, and a lone call
 * waits for nothing but the end of its turn.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { BatchedLookup, PreparedStatements, preparedStatement } from '@app/persistence';
import { AccessTokenVerifier } from './access-token-verifier';
import { IntrospectionReply } from './dto/token-verification.dto';
import { adminTokenHash, verifierCallerRefusal } from '../admin-tokens/admin-tokens.service';
import { isUuid } from '../crypto/random-ids';

/** What one introspection asks the database: the hash of the caller's token, and the jti of a token that verified (else null). */
interface Question {
  readonly credentialHash: string;
  readonly jti: string | null;
}

/** The caller's app (null: no live admin or verifier token), and whether the session is live (null: no session, or no jti). */
interface Answer {
  readonly caller_app: string | null;
  readonly live: boolean | null;
}

/**
 * One row per question, in the order asked. The arrays are typed as the columns are: a text[]
 * would compare `token_hash` (char(64)) as text, which its unique index cannot answer.
 */
const INTROSPECT = preparedStatement<Answer>(
  'token-introspect-batch',
  `SELECT caller.app_id AS caller_app, session.live
     FROM unnest($1::char(64)[], $2::uuid[]) WITH ORDINALITY AS asked(token_hash, jti, position)
     LEFT JOIN LATERAL (SELECT app_id FROM admin_token WHERE token_hash = asked.token_hash AND revoked_at IS NULL) AS caller ON true
     LEFT JOIN LATERAL (SELECT revoked_at IS NULL AS live FROM session WHERE jti = asked.jti) AS session ON true
    ORDER BY asked.position`,
);

@Injectable()
export class Introspection {
  private readonly statements: PreparedStatements;
  private readonly answers: BatchedLookup<Question, Answer>;

  constructor(
    private readonly verifier: AccessTokenVerifier,
    @InjectDataSource() dataSource: DataSource,
  ) {
    this.statements = new PreparedStatements(dataSource);
    this.answers = new BatchedLookup((questions) => this.ask(questions));
  }

  /** RFC 7662's answer about `token` for the holder of `credential`, an admin or verifier token of `appId`. */
  async introspect(credential: string, appId: string, token: string): Promise<IntrospectionReply> {
    const checked = await this.verifier.checkSigned(token, appId);
    // A jti of another shape has no session, and as a uuid parameter it would fail the whole batch.
    const jti = checked.valid && isUuid(checked.claims.jti) ? checked.claims.jti : null;
    const answer = await this.answers.load({ credentialHash: adminTokenHash(credential), jti });
    const refusal = verifierCallerRefusal(answer.caller_app, appId);
    if (refusal) throw refusal;
    return checked.valid && answer.live === true ? IntrospectionReply.of(checked.claims) : IntrospectionReply.inactive();
  }

  private ask(questions: readonly Question[]): Promise<Answer[]> {
    return this.statements.rows(INTROSPECT, [questions.map((question) => question.credentialHash), questions.map((question) => question.jti)]);
  }
}
