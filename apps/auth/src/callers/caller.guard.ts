/**
 * Resolves who is calling, once per request, from `access-token`, and enforces the route's
 * `@Access(...)`. Runs after AppGuard, so the app is known.
 *
 * What it prevents: a token of another app acting here (an admin token is app-scoped, a user
 * token carries its app_id), a revoked admin token or session still working, and a login being
 * blocked by the stale token a client SDK re-sends (login routes ignore `access-token`).
 * Routes without `@Access` require an admin: a forgotten decorator fails closed.
 */
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiError } from '@app/contract';
import { AdminTokensService, isAdminTokenShape } from '../admin-tokens/admin-tokens.service';
import { AccessTokenVerifier } from '../token/access-token-verifier';
import { ROUTE_ACCESS, type RouteAccess } from '../http/route-access';
import type { Caller, ResolvedRequest } from '../http/request-context';

const ANONYMOUS: Caller = { kind: 'anonymous' };

@Injectable()
export class CallerGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly adminTokens: AdminTokensService,
    private readonly accessTokens: AccessTokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access =
      this.reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, [context.getHandler(), context.getClass()]) ?? 'admin';
    if (access === 'none') return true;
    const request = context.switchToHttp().getRequest<ResolvedRequest>();
    if (access === 'anonymous') {
      request.caller = ANONYMOUS;
      return true;
    }

    const app = request.tenant!;
    const token = request.headers['access-token'];
    if (Array.isArray(token)) throw new ApiError('BAD_PARAMETER', 'access-token header is given more than once');
    if (!token) {
      if (access === 'admin-or-open' && app.openRegistration) {
        request.caller = ANONYMOUS;
        return true;
      }
      if (access === 'admin-or-open') throw new ApiError('NO_PERMISSION', 'This app does not allow open registration: an admin access-token is required');
      throw new ApiError('ACCESS_TOKEN_MISSING');
    }

    request.caller = await this.resolve(token, app.id);
    if (request.caller.kind === 'admin') return true;
    if (access === 'admin-or-open' && app.openRegistration) return true;
    throw new ApiError('NO_PERMISSION', 'This endpoint needs an admin access-token');
  }

  private async resolve(token: string, appId: string): Promise<Caller> {
    if (isAdminTokenShape(token)) {
      const adminToken = await this.adminTokens.findActive(token);
      if (!adminToken) throw new ApiError('ACCESS_TOKEN_INVALID', 'access-token is unknown or revoked');
      if (adminToken.appId !== appId) throw new ApiError('ACCESS_TOKEN_INVALID', 'access-token belongs to another app');
      return { kind: 'admin', appId, adminTokenId: adminToken.id };
    }
    const verified = await this.accessTokens.verify(token, appId);
    return { kind: 'user', appId, userId: verified.userId, jti: verified.jti };
  }
}
