import type { ResolvedRequest } from './request-context';

/**
 * The client's IP for the login throttle: Express's `request.ip`, which honours X-Forwarded-For
 * only from TRUSTED_PROXIES (see http-app.ts), else the socket's peer address.
 */
export function clientIpOf(request: ResolvedRequest): string {
  return request.ip ?? request.socket?.remoteAddress ?? 'unknown';
}
