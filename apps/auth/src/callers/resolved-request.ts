/**
 * What AppGuard and CallerGuard attach to a request, and the one way to read it: parameter
 * decorators for handlers (`@Tenant()`, `@Auth()`, `@Client()`), and the same typed accessors for
 * Passport strategies, which cannot take parameter decorators. Each accessor throws when the guard
 * that sets its part has not run: a wiring bug, never a caller's fault.
 */
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
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
export interface ValidatedRequest<Body> extends ResolvedRequest {
  body: Body;
}

export function tenantOf(request: ResolvedRequest): AppEntity {
  if (!request.tenant) throw new Error('The app was asked for before AppGuard resolved it');
  return request.tenant;
}

export function principalOf(request: ResolvedRequest): Principal {
  if (!request.principal) throw new Error('The principal was asked for on a route that CallerGuard does not resolve');
  return request.principal;
}

const requestOf = (context: ExecutionContext) => context.switchToHttp().getRequest<ResolvedRequest>();

/** The app resolved by AppGuard from the `app_id` header. */
export const Tenant = createParamDecorator((_data: unknown, context: ExecutionContext): AppEntity => tenantOf(requestOf(context)));

/** The principal CallerGuard resolved for this request. */
export const Auth = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => principalOf(requestOf(context)));

/** The request's client: its network (what the throttle and the hashing queue count) and whether it has hung up. */
export const Client = createParamDecorator((_data: unknown, context: ExecutionContext): RequestClient => requestClientOf(requestOf(context)));
