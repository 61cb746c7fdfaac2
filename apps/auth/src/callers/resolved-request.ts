/**
 * What AppGuard and CallerGuard attach to a request, and the one way to read it: parameter decorators
 * for handlers, typed accessors for Passport strategies (which cannot take them). Reading a part whose
 * guard has not run throws: a wiring bug, never a caller's fault.
 */
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiError } from '@app/contract';
import { isAdminTokenShape } from '../admin-tokens/admin-tokens.service';
import type { HttpRequest } from '../http/request-context';
import type { AppEntity } from '../tenants/app.entity';
import type { Principal } from './principal';
import { requestClientOf, type RequestClient } from './client';

export interface ResolvedRequest extends HttpRequest {
  /** The app named by the `app_id` header (AppGuard). */
  tenant?: AppEntity;
  /** The caller and the identity it acts as, after the impersonation headers (CallerGuard). */
  principal?: Principal;
  /** The shape-checked impersonation headers, as decimal strings (AppGuard). */
  impersonation?: { groupId?: string; userId?: string };
}

/** A request whose body ValidatedBody has replaced with the validated DTO (a login strategy's). */
export type ValidatedRequest<Body> = ResolvedRequest & { body: Body };

export function tenantOf(request: ResolvedRequest): AppEntity {
  if (!request.tenant) throw new Error('The app was asked for before AppGuard resolved it');
  return request.tenant;
}

const requestOf = (context: ExecutionContext) => context.switchToHttp().getRequest<ResolvedRequest>();

/** A header sent at most once (twice: 10002); empty counts as absent. */
export function singleHeader(request: HttpRequest, name: string): string | undefined {
  const value = request.headers[name];
  if (Array.isArray(value)) throw new ApiError('BAD_PARAMETER', `${name} header is given more than once`);
  return value === undefined || value === '' ? undefined : value;
}

/** The app resolved by AppGuard from the `app_id` header. */
export const Tenant = createParamDecorator((_data: unknown, context: ExecutionContext): AppEntity => tenantOf(requestOf(context)));

/** The principal CallerGuard resolved for this request. */
export const Auth = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const { principal } = requestOf(context);
  if (!principal) throw new Error('The principal was asked for on a route that CallerGuard does not resolve');
  return principal;
});

/** The request's client: its network (what the throttle and the hashing queue count) and whether it has hung up. */
export const Client = createParamDecorator((_data: unknown, context: ExecutionContext): RequestClient => requestClientOf(requestOf(context)));

/**
 * The `access-token` of a verifier route (`@VerifierRoute()`): an admin or verifier token by
 * its shape, which the route's own statement then checks (`verifierCallerRefusal`). Missing:
 * 10003; anything else, a user token included: 10010, as on admin routes. Nobody acts for anyone
 * here, so the impersonation headers are refused (10002) rather than ignored.
 */
export const VerifierCredential = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const request = requestOf(context);
  if (request.impersonation?.groupId !== undefined || request.impersonation?.userId !== undefined) {
    throw new ApiError('BAD_PARAMETER', 'This endpoint takes no user_id or group_id header');
  }
  const token = singleHeader(request, 'access-token');
  if (!token) throw new ApiError('ACCESS_TOKEN_MISSING');
  if (!isAdminTokenShape(token)) throw new ApiError('NO_PERMISSION', 'This endpoint needs an admin or verifier access-token');
  return token;
});
