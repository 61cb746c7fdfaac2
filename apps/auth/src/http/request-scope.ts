import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What the service keeps about the request being served, for whatever runs while it does: its id
 * (every log line written meanwhile carries it) and what the reply said. Made once per request by
 * the request hook (http-app.ts), before anything else runs.
 */
export interface RequestScope {
  /** The caller's `x-request-id` when it looks like an id, else a new UUID; echoed in the reply. */
  readonly requestId: string;
  /** The pattern of the route that handled the request (`/user/:id`); undefined when none did. */
  readonly route: () => string | undefined;
  /** The envelope's `code` when the reply was one (a login's outcome: 200, 10101...). */
  replyCode?: number;
}

const scopes = new AsyncLocalStorage<RequestScope>();

/** Runs `next` (and everything it starts) as part of the request `scope` describes. */
export function runInRequestScope(scope: RequestScope, next: () => void): void {
  scopes.run(scope, next);
}

/** The scope of the request being served, or undefined outside of one (start-up, timers). */
export function currentRequestScope(): RequestScope | undefined {
  return scopes.getStore();
}
