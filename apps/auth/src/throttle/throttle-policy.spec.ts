import { clientKey, identifierKey, knownDeviceKey, reservationRule } from './throttle-policy';

describe('the throttle keys', () => {
  const APP = 'app0000000000000000a';

  it('gives each identifier of one user a key of its own, so a throttled one says nothing of the others', () => {
    const keys = [
      identifierKey(APP, { kind: 'id', id: 6167182826457607 }),
      identifierKey(APP, { kind: 'username', key: 'alice_01' }),
      identifierKey(APP, { kind: 'mobile', e164: '+8613800138000' }),
      identifierKey(APP, { kind: 'email', address: 'alice@example.com' }),
    ];
    expect(new Set(keys).size).toBe(4);
  });

  it('builds an identifier key from the identifier alone (the same whether or not a user has it), per app', () => {
    expect(identifierKey(APP, { kind: 'username', key: 'ghost' })).toBe(identifierKey(APP, { kind: 'username', key: 'ghost' }));
    expect(identifierKey(APP, { kind: 'username', key: 'ghost' })).not.toBe(identifierKey('app0000000000000000b', { kind: 'username', key: 'ghost' }));
  });

  it('hashes names, so a key has a fixed size and no character the client chose', () => {
    const key = identifierKey(APP, { kind: 'email', address: `${'x'.repeat(300)}@example.com` });
    expect(key).toMatch(/^name:app0000000000000000a:e:[A-Za-z0-9_-]{43}$/);
  });

  it('keeps known devices and client networks apart from identifiers', () => {
    expect(knownDeviceKey(APP, 7)).toBe(`device:${APP}:7`);
    expect(clientKey(APP, '2001:db8::/64')).toBe(`ip:${APP}:2001:db8::/64`);
  });
});

describe('reservationRule', () => {
  const settings = { accountFreeFailures: 5, ipFreeFailures: 50, failureResetSeconds: 3600 };

  it('waits 1 s after the first attempt beyond the free ones, doubling up to the cap', () => {
    expect(reservationRule({ ...settings, maxDelaySeconds: 900 })).toEqual({
      delays: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900],
      resetSeconds: 3600,
    });
  });

  it('ends on the cap even when it is a power of two, and never waits longer', () => {
    expect(reservationRule({ ...settings, maxDelaySeconds: 8 }).delays).toEqual([1, 2, 4, 8]);
    expect(reservationRule({ ...settings, maxDelaySeconds: 1 }).delays).toEqual([1]);
  });
});
