import { SetMetadata } from '@nestjs/common';

/**
 * Who may call a route, read by the CallerGuard:
 * - `anonymous`: anyone; a present access-token is ignored (the login routes, where client SDKs
 *   re-send a stale token) unless an impersonation header is sent too.
 * - `admin`: an admin token of the app.
 * - `admin-or-open`: an admin token, or nobody at all when the app allows open registration; on
 *   such an app a present but unusable access-token counts as none (a valid one still counts),
 *   unless an impersonation header is sent too.
 * - `user`: a user's own endpoints: a user token acts as its user; an admin token, or the token of
 *   a group owner or admin, acts for the user named by the `user_id` header.
 * - `verifier`: an admin or verifier token of the app, checked by the route itself in the statement
 *   that does its work (one round trip: introspection, the revocation log), so the CallerGuard
 *   leaves it alone; the route takes it with `@VerifierCredential()`.
 * - `none`: no app and no caller (health, docs).
 */
export type RouteAccess = 'anonymous' | 'admin' | 'admin-or-open' | 'user' | 'verifier' | 'none';

export const ROUTE_ACCESS = 'route-access';

export const Access = (access: RouteAccess) => SetMetadata(ROUTE_ACCESS, access);
