/**
 * Admin tokens: opaque bearer secrets an operator makes for one app (`adm_` + 256 random bits).
 * Only their SHA-256 is stored, so they are shown once, at creation, and never again.
 *
 * Two scopes. `admin` passes every admin route (the CallerGuard resolves it through `findActive`).
 * `verifier` is what another service verifying our tokens holds: it passes only the routes that
 * check it themselves, in the statement that does their work (`POST /token/introspect`, `GET
 * /token/revocations`: `@VerifierRoute()`, with `@VerifierCredential()`), which admin tokens
 * pass too; everywhere else it is an unknown admin token. So a consuming service that leaks it
 * leaks the revocation log and introspection of one app, not the power to register, ban or act as
 * its users.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { PreparedStatements, preparedStatement } from '@app/persistence';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource, IsNull, Repository } from 'typeorm';
import { ApiError } from '@app/contract';
import { AdminTokenEntity, type AdminTokenScope } from './admin-token.entity';
import { isUuid, newOpaqueToken } from '../crypto/random-ids';

export const ADMIN_TOKEN_PREFIX = 'adm';

export interface IssuedAdminToken {
  id: string;
  appId: string;
  /** The secret itself: returned here only. */
  token: string;
}

/** Every admin call resolves its token: a prepared statement (libs/persistence prepared-statements.ts). Verifier tokens are not admins. */
const FIND_ACTIVE = preparedStatement<{ id: string; app_id: string }>(
  'admin-token-find-active',
  "SELECT id, app_id FROM admin_token WHERE token_hash = $1 AND revoked_at IS NULL AND scope = 'admin'",
);

/** What a request learns of the admin token it carries. */
export interface ActiveAdminToken {
  id: string;
  appId: string;
}

@Injectable()
export class AdminTokensService {
  private readonly statements: PreparedStatements;

  constructor(
    @InjectRepository(AdminTokenEntity) private readonly tokens: Repository<AdminTokenEntity>,
    @InjectDataSource() dataSource: DataSource,
  ) {
    this.statements = new PreparedStatements(dataSource);
  }

  async create(appId: string, label?: string, scope: AdminTokenScope = 'admin'): Promise<IssuedAdminToken> {
    const token = newOpaqueToken(ADMIN_TOKEN_PREFIX);
    const id = randomUUID();
    await this.tokens.insert({ id, appId, tokenHash: adminTokenHash(token), label: label ?? null, scope, revokedAt: null });
    return { id, appId, token };
  }

  /** The live admin token matching this secret, or null. */
  async findActive(token: string): Promise<ActiveAdminToken | null> {
    const [row] = await this.statements.rows(FIND_ACTIVE, [adminTokenHash(token)]);
    return row ? { id: row.id, appId: row.app_id } : null;
  }

  list(appId: string): Promise<AdminTokenEntity[]> {
    return this.tokens.find({ where: { appId }, order: { createdAt: 'ASC' } });
  }

  /** Revokes by id or by the secret itself; true when a live token was revoked. */
  async revoke(idOrToken: string): Promise<boolean> {
    let where;
    if (isAdminTokenShape(idOrToken)) where = { tokenHash: adminTokenHash(idOrToken), revokedAt: IsNull() };
    else if (isUuid(idOrToken)) where = { id: idOrToken, revokedAt: IsNull() };
    else return false;
    const result = await this.tokens.update(where, { revokedAt: new Date() });
    return (result.affected ?? 0) > 0;
  }
}

export function isAdminTokenShape(token: string): boolean {
  return token.startsWith(`${ADMIN_TOKEN_PREFIX}_`);
}

/** What the `admin_token` table keeps of a token, and looks it up by. */
export function adminTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * The refusal of a verifier route's caller, given the app of the live admin or verifier token its
 * statement found for the presented one (null: none), or undefined when it is of this app.
 */
export function verifierCallerRefusal(callerAppId: string | null, appId: string): ApiError | undefined {
  if (callerAppId === null) return new ApiError('ACCESS_TOKEN_INVALID', 'access-token is unknown or revoked');
  if (callerAppId !== appId) return new ApiError('ACCESS_TOKEN_INVALID', 'access-token belongs to another app');
  return undefined;
}
