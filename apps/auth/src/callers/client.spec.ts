/**
 * What one client is, for the login throttle and the hashing queue: an IPv4 address, or an IPv6
 * address's /64 (one subscriber's block), never the many addresses inside it.
 */
import { clientNetwork } from './client';

describe('clientNetwork', () => {
  it('keeps an IPv4 address, and anything that is not an IP, as it is', () => {
    expect(clientNetwork('203.0.113.9')).toBe('203.0.113.9');
    expect(clientNetwork('unknown')).toBe('unknown');
  });

  it('counts an IPv6 address by its /64, whatever its spelling', () => {
    const network = '2001:db8:85a3:42::/64';
    for (const ip of ['2001:db8:85a3:42::1', '2001:0db8:85a3:0042:ffff:ffff:ffff:fffe', '2001:DB8:85A3:42:0:0:0:7', '2001:db8:85a3:42::192.0.2.1']) {
      expect(clientNetwork(ip)).toBe(network);
    }
    expect(clientNetwork('2001:db8:85a3:43::1')).toBe('2001:db8:85a3:43::/64');
    expect(clientNetwork('::1')).toBe('0:0:0:0::/64');
    expect(clientNetwork('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('counts an IPv4 client seen through a dual-stack socket as its IPv4 address, not as one shared /64', () => {
    expect(clientNetwork('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(clientNetwork('::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(clientNetwork('::ffff:c633:6407')).toBe('198.51.100.7');
  });
});
