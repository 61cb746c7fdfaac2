import { isIPv6 } from 'node:net';
import type { HttpRequest } from '../http/request-context';

/**
 * The address a client is counted by, where one client means one sender (the login throttle's IP
 * key, the hashing queue's turns): an IPv4 address as it is; an IPv6 address by its /64, the
 * block one subscriber line or host is given, so that walking through its 2^64 addresses does
 * not make a sender many clients; an IPv4 address mapped into IPv6 (a dual-stack socket's view
 * of an IPv4 client) as that IPv4 address.
 */
export function clientNetwork(ip: string): string {
  if (!isIPv6(ip)) return ip;
  const hextets = hextetsOf(ip);
  if (hextets.slice(0, 5).every((hextet) => hextet === 0) && hextets[5] === 0xffff) {
    return [hextets[6] >> 8, hextets[6] & 0xff, hextets[7] >> 8, hextets[7] & 0xff].join('.');
  }
  return `${hextets.slice(0, 4).map((hextet) => hextet.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail and a zone allowed). */
function hextetsOf(ip: string): number[] {
  let text = ip.split('%')[0];
  const tailAt = text.lastIndexOf(':') + 1;
  if (text.includes('.', tailAt)) {
    const [a, b, c, d] = text.slice(tailAt).split('.').map(Number);
    text = `${text.slice(0, tailAt)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const groups = rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((group) => parseInt(group, 16));
}

/** A request's client, for work done on its behalf: its network (clientNetwork), and whether it has gone. */
export interface RequestClient {
  /** clientNetwork() of its IP: what the throttle and the hashing queue count it by. */
  readonly network: string;
  /**
   * True once its connection has closed: nobody is left to read the reply. Asked when the work
   * is about to start (no listener per request); Node closes the connection as soon as the
   * client hangs up.
   */
  readonly gone: () => boolean;
}

/** Its address is Fastify's `request.ip` (X-Forwarded-For believed only from TRUSTED_PROXIES), else the socket's peer. */
export function requestClientOf(request: HttpRequest): RequestClient {
  const socket = request.socket;
  return { network: clientNetwork(request.ip ?? socket?.remoteAddress ?? 'unknown'), gone: () => socket?.destroyed === true };
}
