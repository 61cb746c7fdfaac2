/**
 * Resolves who is calling and as whom, once per request, by the route's rule (CallerResolver has
 * the rules); runs after AppGuard. Handlers read the result through `@Auth()`. What it prevents: an
 * impersonated call without its audit row (written before the handler runs; failing to write it
 * fails the call), and a route without a declared rule being open (it requires an admin).
 */
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ImpersonationAudit } from '../audit/impersonation-audit';
import { requestPath } from '../http/request-context';
import { routeAccessOf } from './route-access';
import { CallerResolver } from './caller-resolver';
import { singleHeader, tenantOf, type ResolvedRequest } from './resolved-request';

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
    const token = singleHeader(request, 'access-token');
    const principal = await this.resolver.resolve(access, { app, token, ...request.impersonation });
    request.principal = principal;
    if (principal.impersonated) {
      await this.audit.record({ appId: app.id, principal, method: request.method, path: requestPath(request), clientIp: request.ip });
    }
    return true;
  }
}
