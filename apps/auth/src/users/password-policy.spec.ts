/**
 * The password policy: lengths are counted in code points (as a person counts characters), the
 * minimum is per app, the maximum is the server's and also bounds hashing work at login.
 */
import { isPasswordTooLong, passwordPolicyViolation, type PasswordLimits } from './password-policy';

const LIMITS: PasswordLimits = { minLength: 8, maxLength: 16 };
const EMOJI = '😀'; // one code point, two UTF-16 units

describe('passwordPolicyViolation', () => {
  it('accepts a password between the limits', () => {
    expect(passwordPolicyViolation('correct horse', LIMITS)).toBeUndefined();
  });

  it('accepts exactly the minimum and refuses one character less', () => {
    expect(passwordPolicyViolation('a'.repeat(8), LIMITS)).toBeUndefined();
    expect(passwordPolicyViolation('a'.repeat(7), LIMITS)).toBe('password must be at least 8 characters');
  });

  it('accepts exactly the maximum and refuses one character more', () => {
    expect(passwordPolicyViolation('a'.repeat(16), LIMITS)).toBeUndefined();
    expect(passwordPolicyViolation('a'.repeat(17), LIMITS)).toBe('password must be at most 16 characters');
  });

  it('counts an emoji as one character towards the minimum', () => {
    expect(EMOJI.repeat(8)).toHaveLength(16);
    expect(passwordPolicyViolation(EMOJI.repeat(8), LIMITS)).toBeUndefined();
    expect(passwordPolicyViolation(EMOJI.repeat(7), LIMITS)).toBe('password must be at least 8 characters');
  });

  it('counts an emoji as one character towards the maximum', () => {
    expect(passwordPolicyViolation(EMOJI.repeat(16), LIMITS)).toBeUndefined();
    expect(passwordPolicyViolation(EMOJI.repeat(17), LIMITS)).toBe('password must be at most 16 characters');
  });

  it('counts CJK characters one each', () => {
    expect(passwordPolicyViolation('密码密码密码密码', LIMITS)).toBeUndefined();
    expect(passwordPolicyViolation('密码密码密码密', LIMITS)).toBe('password must be at least 8 characters');
  });

  it('refuses a NUL character anywhere in an otherwise valid password', () => {
    expect(passwordPolicyViolation('correct\u0000horse', LIMITS)).toBe('password must not contain NUL characters');
    expect(passwordPolicyViolation('\u0000correcthorse', LIMITS)).toBe('password must not contain NUL characters');
  });

  it('honours a lowered per-app minimum (the platform had none)', () => {
    expect(passwordPolicyViolation('abc', { minLength: 1, maxLength: 256 })).toBeUndefined();
  });

  it('names the field it checks', () => {
    expect(passwordPolicyViolation('short', LIMITS, 'new_password')).toBe('new_password must be at least 8 characters');
  });
});

describe('isPasswordTooLong', () => {
  it('accepts exactly the maximum and refuses one more', () => {
    expect(isPasswordTooLong('a'.repeat(256), 256)).toBe(false);
    expect(isPasswordTooLong('a'.repeat(257), 256)).toBe(true);
  });

  it('accepts the maximum in astral characters (twice as many UTF-16 units) and refuses one more', () => {
    expect(isPasswordTooLong(EMOJI.repeat(256), 256)).toBe(false);
    expect(isPasswordTooLong(EMOJI.repeat(257), 256)).toBe(true);
  });

  it('counts mixed BMP and astral characters one each', () => {
    const mixed = `${EMOJI.repeat(128)}${'a'.repeat(128)}`;
    expect(isPasswordTooLong(mixed, 256)).toBe(false);
    expect(isPasswordTooLong(`${mixed}a`, 256)).toBe(true);
    expect(isPasswordTooLong(`${mixed}${EMOJI}`, 256)).toBe(true);
  });

  it('refuses very long strings, astral or not', () => {
    expect(isPasswordTooLong('a'.repeat(1_000_000), 256)).toBe(true);
    expect(isPasswordTooLong(EMOJI.repeat(500_000), 256)).toBe(true);
  });

  it('accepts an empty password (a login checks only the maximum)', () => {
    expect(isPasswordTooLong('', 256)).toBe(false);
  });
});
