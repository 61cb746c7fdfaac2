/**
 * What a new password must satisfy: a per-app minimum length (default 8; the platform had none, so
 * an app migrating from it can lower it) and the server's maximum, which also bounds hashing work.
 * Lengths count Unicode code points, as a person would count characters. A login checks only the
 * maximum: an old password made under a lower minimum must still work.
 */
export interface PasswordLimits {
  readonly minLength: number;
  readonly maxLength: number;
}

export function passwordPolicyViolation(password: string, limits: PasswordLimits, field = 'password'): string | undefined {
  const length = [...password].length;
  if (length < limits.minLength) return `${field} must be at least ${limits.minLength} characters`;
  if (length > limits.maxLength) return `${field} must be at most ${limits.maxLength} characters`;
  if (password.includes('\u0000')) return `${field} must not contain NUL characters`;
  if (hasLoneSurrogate(password)) return `${field} must be valid Unicode (it has a lone surrogate)`;
  return undefined;
}

export function isPasswordTooLong(password: string, maxLength: number): boolean {
  // Cheap bound first: a string of more UTF-16 units than 2x the limit cannot fit.
  return password.length > maxLength * 2 || [...password].length > maxLength;
}

/**
 * A lone UTF-16 surrogate has no UTF-8 form: it would be hashed as U+FFFD, so different
 * passwords would hash alike. Such passwords are refused, at registration and at login.
 */
export function hasLoneSurrogate(password: string): boolean {
  return /\p{Cs}/u.test(password);
}
