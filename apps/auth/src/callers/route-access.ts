/**
 * Who may call a route, read by AppGuard and CallerGuard (caller-resolver.ts applies it). Each kind
 * of route has one decorator that sets the rule, documents the platform's headers (PlatformHeaders)
 * and lists the errors the route can answer (ApiErrors: what any app route can answer, what its
 * access rule adds, and the route's own), so the docs cannot drift from the rule:
 * - `@AnonymousRoute()`: anyone; a present access-token is ignored (the login routes, where client
 *   SDKs re-send a stale token) unless an impersonation header is sent too.
 * - `@AdminRoute()`: an admin token of the app.
 * - `@RegistrationRoute()`: an admin token, or nobody at all when the app allows open
 *   registration; on such an app a present but unusable access-token counts as none (a valid one
 *   still counts), unless an impersonation header is sent too.
 * - `@UserRoute()`: a user's own endpoints: a user token acts as its user; an admin token, or the
 *   token of a group owner or admin, acts for the user named by the `user_id` header.
 * - `@VerifierRoute()`: an admin or verifier token of the app, checked by the route itself in the
 *   statement that does its work (one round trip: introspection, the revocation log), so
 *   CallerGuard leaves it alone; the route takes it with `@VerifierCredential()`.
 * - `@NoAppRoute()`: no app and no caller (health, docs, the JWKS).
 * A route without one requires an admin: a forgotten decorator fails closed.
 */
import { applyDecorators, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { ErrorName } from '@app/contract';
import { ApiErrors, PlatformHeaders } from '../http/api-docs.decorators';

export type RouteAccess = 'anonymous' | 'admin' | 'admin-or-open' | 'user' | 'verifier' | 'none';

export const ROUTE_ACCESS = 'route-access';

/** What each rule answers beyond the errors of every app route (http/api-docs.decorators.ts). */
const ACCESS_ERRORS: Record<Exclude<RouteAccess, 'none'>, ErrorName[]> = {
  anonymous: [],
  admin: ['ACCESS_TOKEN_MISSING'],
  'admin-or-open': [],
  user: ['ACCESS_TOKEN_MISSING'],
  verifier: ['ACCESS_TOKEN_MISSING'],
};

/** The bare rule; routes take it through the decorators below, which document it too. */
export const Access = (access: RouteAccess) => SetMetadata(ROUTE_ACCESS, access);

function appRoute(access: Exclude<RouteAccess, 'none'>, errors: ErrorName[]): MethodDecorator & ClassDecorator {
  return applyDecorators(Access(access), PlatformHeaders(), ApiErrors(...ACCESS_ERRORS[access], ...errors));
}

export const AnonymousRoute = (...errors: ErrorName[]) => appRoute('anonymous', errors);
export const AdminRoute = (...errors: ErrorName[]) => appRoute('admin', errors);
export const RegistrationRoute = (...errors: ErrorName[]) => appRoute('admin-or-open', errors);
export const UserRoute = (...errors: ErrorName[]) => appRoute('user', errors);
export const VerifierRoute = (...errors: ErrorName[]) => appRoute('verifier', errors);
export const NoAppRoute = () => Access('none');

/** The route's rule; none declared: admin. */
export function routeAccessOf(reflector: Reflector, context: ExecutionContext): RouteAccess {
  return reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, [context.getHandler(), context.getClass()]) ?? 'admin';
}
