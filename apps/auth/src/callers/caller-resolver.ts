/**
 * The rules of who is calling and as whom: the tables of docs/authorization.md, which
 * caller-resolver.spec.ts checks row by row. Apart from HTTP: CallerGuard hands over the route's
 * rule, the app, `access-token` and the shape-checked impersonation headers, and gets the principal
 * or the error.
 *
 * What it prevents: a token of another app acting here, a revoked admin token or session still
 * working, a stale or unknown `user_id` silently falling back to the caller's own identity, and a
 * group member acting for another member (only a strictly higher role in a shared group lets a
 * user act for another: an admin never for the owner or another admin).
 */
import { Injectable } from '@nestjs/common';
import { ApiError } from '@app/contract';
import { AdminTokensService, isAdminTokenShape } from '../admin-tokens/admin-tokens.service';
import { AccessTokenVerifier } from '../token/access-token-verifier';
import { UsersService } from '../users/users.service';
import { GroupDirectory } from '../groups/group-directory';
import type { AppEntity } from '../tenants/app.entity';
import type { RouteAccess } from './route-access';
import type { Acting, Caller, Principal } from './principal';

/** What a call presents; the impersonation headers already shape-checked (AppGuard). */
export interface CallerClaims {
  readonly app: Pick<AppEntity, 'id' | 'openRegistration'>;
  readonly token?: string;
  readonly groupId?: string;
  readonly userId?: string;
}

/** The rules that resolve a caller; `verifier` and `none` routes resolve none. */
export type ResolvedAccess = Exclude<RouteAccess, 'verifier' | 'none'>;

const ANONYMOUS: Caller = { kind: 'anonymous' };

@Injectable()
export class CallerResolver {
  constructor(
    private readonly adminTokens: AdminTokensService,
    private readonly accessTokens: AccessTokenVerifier,
    private readonly users: UsersService,
    private readonly groups: GroupDirectory,
  ) {}

  /** The principal of a call to a route with this rule, or the error that refuses it. */
  async resolve(access: ResolvedAccess, { app, token, groupId, userId }: CallerClaims): Promise<Principal> {
    if (groupId !== undefined && userId !== undefined) {
      throw new ApiError('BAD_PARAMETER', 'group_id and user_id headers cannot be sent together');
    }
    const headersSent = groupId !== undefined || userId !== undefined;
    const caller = await this.callerOf(access, app, token, headersSent);
    const acting = await this.acting(app.id, caller, groupId, userId);
    // A user naming itself in user_id acts as itself: no impersonation, no audit row.
    const actsAsItself = caller.kind === 'user' && acting.kind === 'user' && acting.userId === caller.userId;
    const principal: Principal = { caller, acting, impersonated: headersSent && !actsAsItself };
    enforce(access, app, principal, Boolean(token));
    return principal;
  }

  /**
   * The caller behind `access-token`. Where anonymous callers are allowed and no impersonation
   * header gives the token a meaning, an unusable one counts as none: the login routes take their
   * identity from the body and ignore any token; registration on an app open to it still honours a
   * valid one. On an app closed to it registration needs an admin, so a bad token is refused (10008).
   */
  private async callerOf(access: ResolvedAccess, app: CallerClaims['app'], token: string | undefined, headersSent: boolean): Promise<Caller> {
    if (!token) return ANONYMOUS;
    if (headersSent) return this.callerBehind(token, app.id);
    if (access === 'anonymous') return ANONYMOUS;
    if (access === 'admin-or-open' && app.openRegistration) return this.callerBehind(token, app.id).catch(anonymousIfUnusable);
    return this.callerBehind(token, app.id);
  }

  private async callerBehind(token: string, appId: string): Promise<Caller> {
    if (isAdminTokenShape(token)) {
      const adminToken = await this.adminTokens.findActive(token);
      if (!adminToken) throw new ApiError('ACCESS_TOKEN_INVALID', 'access-token is unknown or revoked');
      if (adminToken.appId !== appId) throw new ApiError('ACCESS_TOKEN_INVALID', 'access-token belongs to another app');
      return { kind: 'admin', appId, adminTokenId: adminToken.id };
    }
    const verified = await this.accessTokens.verify(token, appId);
    return { kind: 'user', appId, userId: verified.userId, jti: verified.jti };
  }

  private async acting(appId: string, caller: Caller, groupId: string | undefined, userId: string | undefined): Promise<Acting> {
    if (groupId !== undefined) {
      if (caller.kind !== 'admin') throw new ApiError('NO_PERMISSION', 'group_id can only be used with an admin access-token');
      if (!(await this.groups.exists(appId, groupId))) throw new ApiError('GROUP_NOT_FOUND', `Group ${groupId} does not exist in this app`);
      return { kind: 'group-admin', groupId };
    }
    if (userId !== undefined) {
      const target = Number(userId);
      if (caller.kind === 'anonymous') throw new ApiError('NO_PERMISSION', 'user_id needs an admin or user access-token');
      if (!Number.isSafeInteger(target) || !(await this.users.exists(appId, target))) {
        throw new ApiError('NO_PERMISSION', `user_id ${userId} is not a user of this app`);
      }
      if (caller.kind === 'user' && caller.userId !== target) {
        const standing = await this.groups.standing(appId, caller.userId, target);
        if (standing === 'shares-nothing') throw new ApiError('NOT_GROUP_MEMBER', `user ${userId} is not a member of any of your groups`);
        if (standing === 'does-not-outrank') {
          throw new ApiError('NEEDS_GROUP_ADMIN', `acting for user ${userId} needs a higher role than theirs (owner > admin > member) in a group you share`);
        }
      }
      return { kind: 'user', userId: target };
    }
    if (caller.kind === 'admin') return { kind: 'admin' };
    if (caller.kind === 'user') return { kind: 'user', userId: caller.userId };
    return { kind: 'anonymous' };
  }
}

/** The route's rule applied to the resolved principal. */
function enforce(access: ResolvedAccess, app: CallerClaims['app'], { caller, acting }: Principal, tokenSent: boolean): void {
  switch (access) {
    case 'anonymous':
      return;
    case 'admin-or-open':
      if (caller.kind === 'admin' || app.openRegistration) return;
      if (!tokenSent) throw new ApiError('NO_PERMISSION', 'This app does not allow open registration: an admin access-token is required');
      throw new ApiError('NO_PERMISSION', 'This endpoint needs an admin access-token');
    case 'admin':
      if (caller.kind === 'admin') return;
      if (!tokenSent) throw new ApiError('ACCESS_TOKEN_MISSING');
      throw new ApiError('NO_PERMISSION', 'This endpoint needs an admin access-token');
    case 'user':
      if (acting.kind === 'user') return;
      if (!tokenSent) throw new ApiError('ACCESS_TOKEN_MISSING');
      throw new ApiError('BAD_PARAMETER', 'With an admin access-token this endpoint needs the user_id header naming the user');
  }
}

/** A token that is refused (10008) or has expired (402) stands for no caller; any other failure (the database) stays one. */
function anonymousIfUnusable(error: unknown): Caller {
  if (error instanceof ApiError && (error.errorName === 'ACCESS_TOKEN_INVALID' || error.errorName === 'ACCESS_TOKEN_EXPIRED')) return ANONYMOUS;
  throw error;
}
