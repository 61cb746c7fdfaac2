import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { AppEntity } from '../tenants/app.entity';
import type { Principal } from '../callers/principal';

/** Who is calling: resolved once per request from `access-token` by the CallerGuard. */
export type Caller =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'admin'; readonly appId: string; readonly adminTokenId: string }
  | { readonly kind: 'user'; readonly appId: string; readonly userId: number; readonly jti: string };

/**
 * A request as guards, strategies and handlers see it: the part of Fastify's request they use,
 * so nothing past the HTTP layer depends on Fastify.
 */
export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  /** The URL as received (middleware mounted on a path sees `url` without it). */
  readonly originalUrl?: string;
  readonly headers: IncomingHttpHeaders;
  /** The client's address, X-Forwarded-For believed only from TRUSTED_PROXIES (see http-platform.ts). */
  readonly ip?: string;
  readonly socket?: Socket;
  /** The parsed JSON body (`{}` without one), replaced by the validated DTO by ValidatedBody. */
  body?: unknown;
  /** Set by Passport's AuthGuard on login routes. */
  user?: unknown;
}

/** What the global guards attach to a request before any handler runs. */
export interface ResolvedRequest extends HttpRequest {
  /** The app named by the `app_id` header (AppGuard). */
  tenant?: AppEntity;
  /** The caller behind `access-token` (CallerGuard). */
  caller?: Caller;
  /** The caller and the identity it acts as, after the impersonation headers (CallerGuard). */
  principal?: Principal;
  /** The shape-checked impersonation headers, as decimal strings. */
  impersonation?: { groupId?: string; userId?: string };
}

/** The path of a request, without its query string (which is the caller's and never logged). */
export function requestPath(request: Pick<HttpRequest, 'url' | 'originalUrl'>): string {
  return (request.originalUrl ?? request.url).split('?')[0];
}
