/**
 * Who may call a route (docs/authorization.md), read by AppGuard and CallerGuard. Each kind of
 * route has one decorator that sets the rule, documents the platform's headers and lists the
 * errors the route can answer (those of every app route, of its rule, and its own), so the docs
 * cannot drift from the rule. A route without one requires an admin: a forgotten decorator fails closed.
 */
import { applyDecorators, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { ErrorName } from '@app/contract';
import { ApiErrors, PlatformHeaders } from '../http/api-docs';

export type RouteAccess = 'anonymous' | 'admin' | 'admin-or-open' | 'user' | 'verifier' | 'none';

const ROUTE_ACCESS = 'route-access';

/** The bare rule; routes take it through the decorators below, which document it too. */
export const Access = (access: RouteAccess) => SetMetadata(ROUTE_ACCESS, access);

function appRoute(access: Exclude<RouteAccess, 'none'>, errors: ErrorName[]): MethodDecorator & ClassDecorator {
  // Beyond what every app route can answer (http/api-docs.ts): where a token is required, its absence.
  const tokenRequired = access === 'admin' || access === 'user' || access === 'verifier';
  return applyDecorators(Access(access), PlatformHeaders(), ApiErrors(...(tokenRequired ? (['ACCESS_TOKEN_MISSING'] as const) : []), ...errors));
}

/** Anyone; an access-token is ignored (the login routes: SDKs re-send stale ones) unless an impersonation header is sent too. */
export const AnonymousRoute = (...errors: ErrorName[]) => appRoute('anonymous', errors);
/** An admin token of the app. */
export const AdminRoute = (...errors: ErrorName[]) => appRoute('admin', errors);
/** An admin token, or anyone on an app open to registration (where an unusable token then counts as none). */
export const RegistrationRoute = (...errors: ErrorName[]) => appRoute('admin-or-open', errors);
/** A user's own: its token, or an admin's or a group owner's or admin's token with `user_id` naming the user. */
export const UserRoute = (...errors: ErrorName[]) => appRoute('user', errors);
/** An admin or verifier token, checked by the route's own statement (CallerGuard leaves it alone): `@VerifierCredential()`. */
export const VerifierRoute = (...errors: ErrorName[]) => appRoute('verifier', errors);
/** No app and no caller (health, metrics, the JWKS). */
export const NoAppRoute = () => Access('none');

/** The route's rule; none declared: admin. */
export function routeAccessOf(reflector: Reflector, context: ExecutionContext): RouteAccess {
  return reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, [context.getHandler(), context.getClass()]) ?? 'admin';
}
