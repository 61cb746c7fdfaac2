/**
 * Admin tokens: opaque bearer secrets an operator makes for one app (`adm_` + 256 random bits).
 * Only their SHA-256 is stored, so they are shown once, at creation, and never again.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { PreparedStatements, preparedStatement } from '@app/persistence';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource, IsNull, Repository } from 'typeorm';
import { AdminTokenEntity } from './admin-token.entity';
import { newOpaqueToken } from '../crypto/random-ids';

export const ADMIN_TOKEN_PREFIX = 'adm';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface IssuedAdminToken {
  id: string;
  appId: string;
  /** The secret itself: returned here only. */
  token: string;
}

/** Every admin call resolves its token: a prepared statement (libs/persistence prepared-statements.ts). */
const FIND_ACTIVE = preparedStatement<{ id: string; app_id: string }>(
  'admin-token-find-active',
  'SELECT id, app_id FROM admin_token WHERE token_hash = $1 AND revoked_at IS NULL',
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

  async create(appId: string, label?: string): Promise<IssuedAdminToken> {
    const token = newOpaqueToken(ADMIN_TOKEN_PREFIX);
    const id = randomUUID();
    await this.tokens.insert({ id, appId, tokenHash: sha256(token), label: label ?? null, revokedAt: null });
    return { id, appId, token };
  }

  /** The live admin token matching this secret, or null. */
  async findActive(token: string): Promise<ActiveAdminToken | null> {
    const [row] = await this.statements.rows(FIND_ACTIVE, [sha256(token)]);
    return row ? { id: row.id, appId: row.app_id } : null;
  }

  list(appId: string): Promise<AdminTokenEntity[]> {
    return this.tokens.find({ where: { appId }, order: { createdAt: 'ASC' } });
  }

  /** Revokes by id or by the secret itself; true when a live token was revoked. */
  async revoke(idOrToken: string): Promise<boolean> {
    let where;
    if (isAdminTokenShape(idOrToken)) where = { tokenHash: sha256(idOrToken), revokedAt: IsNull() };
    else if (UUID.test(idOrToken)) where = { id: idOrToken, revokedAt: IsNull() };
    else return false;
    const result = await this.tokens.update(where, { revokedAt: new Date() });
    return (result.affected ?? 0) > 0;
  }
}

export function isAdminTokenShape(token: string): boolean {
  return token.startsWith(`${ADMIN_TOKEN_PREFIX}_`);
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
