import type { HttpRequest } from './request-context';

/**
 * The client's IP for the login throttle: the adapter's `request.ip`, which honours
 * X-Forwarded-For only from TRUSTED_PROXIES (see http-platform.ts), else the socket's peer address.
 */
export function clientIpOf(request: HttpRequest): string {
  return request.ip ?? request.socket?.remoteAddress ?? 'unknown';
}
