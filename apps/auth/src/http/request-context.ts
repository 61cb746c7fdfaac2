import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorHttpStatusMode } from '@app/config';

/**
 * A request as guards, strategies and handlers see it: the part of Fastify's request they use,
 * so nothing past the HTTP layer depends on Fastify. What the guards add is callers/resolved-request.ts.
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
  /** The app's own ERROR_HTTP_STATUS, which the exception filter answers by, once AppGuard has found it. */
  tenant?: { readonly errorHttpStatus: ErrorHttpStatusMode | null };
}

/** The path of a request, without its query string (which is the caller's and never logged). */
export function requestPath(request: Pick<HttpRequest, 'url' | 'originalUrl'>): string {
  return (request.originalUrl ?? request.url).split('?')[0];
}
