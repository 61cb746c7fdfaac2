/**
 * Resolves the tenant of every request from the `app_id` header, before anything else looks at
 * the request: missing is 10002, unknown or disabled is 40000. It also shape-checks the
 * impersonation headers (`group_id`, `user_id`: int64, else 10002) so no later code sees a
 * malformed one; what they mean is the CallerGuard's business.
 */
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiError, parseInt64Header } from '@app/contract';
import { TenantsService } from '../tenants/tenants.service';
import { AppStatus } from '../tenants/app.entity';
import { routeAccessOf } from './route-access';
import { singleHeader, type ResolvedRequest } from './resolved-request';

const APP_ID_SHAPE = /^[A-Za-z0-9_-]{1,32}$/;

@Injectable()
export class AppGuard implements CanActivate {
  constructor(
    private readonly tenants: TenantsService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (routeAccessOf(this.reflector, context) === 'none') return true;
    const request = context.switchToHttp().getRequest<ResolvedRequest>();

    request.impersonation = {
      groupId: int64Header(request, 'group_id'),
      userId: int64Header(request, 'user_id'),
    };

    const appId = singleHeader(request, 'app_id');
    if (appId === undefined) throw new ApiError('BAD_PARAMETER', 'app_id header is required');
    if (!APP_ID_SHAPE.test(appId)) throw new ApiError('APP_NOT_FOUND');
    const app = await this.tenants.find(appId);
    if (!app) throw new ApiError('APP_NOT_FOUND');
    if (app.status !== AppStatus.Active) throw new ApiError('APP_NOT_FOUND', 'app_id is disabled');
    request.tenant = app;
    return true;
  }
}

function int64Header(request: ResolvedRequest, name: string): string | undefined {
  const value = singleHeader(request, name);
  if (value === undefined) return undefined;
  const parsed = parseInt64Header(value.trim());
  if (parsed === undefined) throw new ApiError('BAD_PARAMETER', `${name} header must be a positive int64`);
  return parsed;
}
