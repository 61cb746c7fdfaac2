/**
 * Resolves who is calling and as whom, once per request, by the route's rule (route-access.ts);
 * the rules themselves are CallerResolver's. Runs after AppGuard, so the app is known and the
 * impersonation headers are shape-checked. Handlers read the result through `@Auth()`.
 *
 * What it prevents: a call reaching a handler with a principal the rules did not grant (the
 * resolver refuses first), an impersonated call without its audit row (it is written before the
 * handler runs, and a failure to write it fails the call), and a route without a declared rule
 * being open (it requires an admin).
 */
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiError } from '@app/contract';
import { ImpersonationAudit } from '../audit/impersonation-audit';
import { requestPath } from '../http/request-context';
import { routeAccessOf } from './route-access';
import { CallerResolver } from './caller-resolver';
import { tenantOf, type ResolvedRequest } from './resolved-request';

@Injectable()
export class CallerGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly resolver: CallerResolver,
    private readonly audit: ImpersonationAudit,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = routeAccessOf(this.reflector, context);
    if (access === 'none' || access === 'verifier') return true;
    const request = context.switchToHttp().getRequest<ResolvedRequest>();
    const app = tenantOf(request);
    const token = request.headers['access-token'];
    if (Array.isArray(token)) throw new ApiError('BAD_PARAMETER', 'access-token header is given more than once');
    const principal = await this.resolver.resolve(access, { app, token, ...request.impersonation });
    request.principal = principal;
    if (principal.impersonated) {
      await this.audit.record({ appId: app.id, principal, method: request.method, path: requestPath(request), clientIp: request.ip });
    }
    return true;
  }
}
