import type { AppEntity } from '../../apps/app.entity';
import type { ResolvedRequest } from '../../http/request-context';

/** The app AppGuard resolved; the strategies run behind it, so its absence is a wiring bug. */
export function tenantOf(request: ResolvedRequest): AppEntity {
  if (!request.tenant) throw new Error('Login strategy ran before AppGuard resolved the app');
  return request.tenant;
}

/**
 * The client's IP for the login throttle: Express's `request.ip`, which honours X-Forwarded-For
 * only from TRUSTED_PROXIES (see http-app.ts), else the socket's peer address.
 */
export function clientIpOf(request: ResolvedRequest): string {
  return request.ip ?? request.socket?.remoteAddress ?? 'unknown';
}
