import type { HttpRequest } from './request-context';

/**
 * The client's IP for the login throttle: the adapter's `request.ip`, which honours
 * X-Forwarded-For only from TRUSTED_PROXIES (see http-platform.ts), else the socket's peer address.
 */
export function clientIpOf(request: HttpRequest): string {
  return request.ip ?? request.socket?.remoteAddress ?? 'unknown';
}

/** A request's client, for work done on its behalf: its IP, and whether it has gone. */
export interface RequestClient {
  readonly ip: string;
  /**
   * True once its connection has closed: nobody is left to read the reply. Asked when the work
   * is about to start (no listener per request); Node closes the connection as soon as the
   * client hangs up, on either adapter.
   */
  readonly gone: () => boolean;
}

export function requestClientOf(request: HttpRequest): RequestClient {
  const socket = request.socket;
  return { ip: clientIpOf(request), gone: () => socket?.destroyed === true };
}
