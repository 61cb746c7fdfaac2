/**
 * Wire values into ids: user ids are positive and below 2^53 (safe as JSON numbers everywhere),
 * int64 headers are positive signed 64-bit decimals kept as strings.
 */
import { parseInt64Header, parseUserId } from './int64';

const MAX_SAFE = 2 ** 53 - 1;

describe('parseUserId', () => {
  it('accepts positive integer JSON numbers', () => {
    expect(parseUserId(1)).toBe(1);
    expect(parseUserId(2302128618880)).toBe(2302128618880);
  });

  it('accepts decimal strings and returns a number', () => {
    expect(parseUserId('1')).toBe(1);
    expect(parseUserId('2302128618880')).toBe(2302128618880);
  });

  it('refuses 0, as a number and as a string', () => {
    expect(parseUserId(0)).toBeUndefined();
    expect(parseUserId('0')).toBeUndefined();
  });

  it('refuses negatives', () => {
    expect(parseUserId(-1)).toBeUndefined();
    expect(parseUserId('-1')).toBeUndefined();
    expect(parseUserId(-0)).toBeUndefined();
  });

  it('refuses fractions', () => {
    expect(parseUserId(1.5)).toBeUndefined();
    expect(parseUserId('1.5')).toBeUndefined();
    expect(parseUserId('1.0')).toBeUndefined();
  });

  it('accepts 2^53 - 1 and refuses 2^53 and above', () => {
    expect(parseUserId(MAX_SAFE)).toBe(MAX_SAFE);
    expect(parseUserId(String(MAX_SAFE))).toBe(MAX_SAFE);
    expect(parseUserId(2 ** 53)).toBeUndefined();
    expect(parseUserId('9007199254740992')).toBeUndefined();
    // rounds to 2^53 as a double: must not be accepted as a neighbouring id
    expect(parseUserId('9007199254740993')).toBeUndefined();
    expect(parseUserId('9223372036854775807')).toBeUndefined();
  });

  it('refuses non-finite numbers', () => {
    expect(parseUserId(Number.NaN)).toBeUndefined();
    expect(parseUserId(Number.POSITIVE_INFINITY)).toBeUndefined();
  });

  it('refuses strings that are not plain decimals', () => {
    for (const value of ['007', ' 1', '1 ', '+1', '1e3', '0x10', '1_000', '', 'abc', '١٢٣']) {
      expect(parseUserId(value)).toBeUndefined();
    }
  });

  it('refuses objects, arrays, null, undefined, booleans and bigints', () => {
    for (const value of [{}, { id: 1 }, [], [1], ['1'], null, undefined, true, false, 1n]) {
      expect(parseUserId(value)).toBeUndefined();
    }
  });
});

describe('parseInt64Header', () => {
  it('accepts positive decimals and keeps them as strings', () => {
    expect(parseInt64Header('1')).toBe('1');
    expect(parseInt64Header('2302128618880')).toBe('2302128618880');
  });

  it('accepts the largest int64 and refuses one more', () => {
    expect(parseInt64Header('9223372036854775807')).toBe('9223372036854775807');
    expect(parseInt64Header('9223372036854775808')).toBeUndefined();
  });

  it('accepts values beyond 2^53 without losing precision', () => {
    expect(parseInt64Header('9007199254740993')).toBe('9007199254740993');
  });

  it('refuses 0', () => {
    expect(parseInt64Header('0')).toBeUndefined();
  });

  it('refuses anything that is not a plain positive decimal', () => {
    for (const value of ['', '-1', '+1', '01', ' 1', '1 ', '1.0', '1e3', '0x1', 'abc', '12a', '99999999999999999999']) {
      expect(parseInt64Header(value)).toBeUndefined();
    }
  });
});
