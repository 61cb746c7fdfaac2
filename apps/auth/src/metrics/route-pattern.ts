import type { Request } from 'express';

/**
 * The pattern of the route that handled a request (`/token/user`, `/user/:id`), never the raw URL,
 * so that metric labels and log fields stay few whatever paths clients send. Undefined when no
 * route did: an unknown path, or a body refused before routing (413, 415).
 */
export function routePattern(request: Request): string | undefined {
  const path = (request.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : undefined;
}
