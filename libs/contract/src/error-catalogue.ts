/**
 * Every error this service can answer, in one table.
 *
 * Codes 10000-40000 are the reference platform's own catalogue, reused with its meaning so that
 * client code written for the platform branches on them unchanged; 402 is what the platform's
 * client SDK reads as "the token has expired, log in again". The platform has no code for
 * wrong credentials, a banned user, throttling, body size or content type, an unknown route or an
 * unexpected failure: those take free numbers in the same style (101xx next to the user-system
 * range, 50000 for the unexpected, 50003 for an overloaded server). `docs/errors.md` is checked against this table by a unit test.
 */
export const ErrorCatalogue = {
  /** The platform client SDK's re-login signal: it logs in again by itself on this code in a 2xx reply. */
  ACCESS_TOKEN_EXPIRED: { code: 402, status: 401, message: 'access-token has expired' },
  USER_NOT_FOUND: { code: 10000, status: 404, message: 'User does not exist' },
  BAD_PARAMETER: { code: 10002, status: 400, message: 'Incorrect request parameter' },
  ACCESS_TOKEN_MISSING: { code: 10003, status: 401, message: 'access-token is missing from the header' },
  USER_EXISTS: { code: 10004, status: 409, message: 'User already exists' },
  ACCESS_TOKEN_INVALID: { code: 10008, status: 401, message: 'Invalid access-token in the header' },
  NO_PERMISSION: { code: 10010, status: 403, message: 'User has no permission' },
  WRONG_CREDENTIALS: { code: 10101, status: 401, message: 'Wrong user or password' },
  USER_BANNED: { code: 10102, status: 403, message: 'User is banned' },
  TOO_MANY_ATTEMPTS: { code: 10103, status: 429, message: 'Too many attempts, try again later' },
  BODY_TOO_LARGE: { code: 10104, status: 413, message: 'Request body is too large' },
  UNSUPPORTED_CONTENT_TYPE: { code: 10105, status: 415, message: 'Request body must be application/json' },
  ROUTE_NOT_FOUND: { code: 10106, status: 404, message: 'No such endpoint' },
  LOGIN_INTERRUPTED: { code: 10107, status: 409, message: 'The account was signed out while logging in, log in again' },
  DATABASE_UNAVAILABLE: { code: 20000, status: 503, message: 'Server database exception' },
  GROUP_NOT_FOUND: { code: 20001, status: 404, message: 'Group does not exist' },
  NOT_GROUP_MEMBER: { code: 20002, status: 403, message: 'The user is not a group member' },
  NEEDS_GROUP_ADMIN: { code: 20012, status: 403, message: 'The operation needs group admin permission' },
  APP_NOT_FOUND: { code: 40000, status: 404, message: 'app_id does not exist' },
  INTERNAL: { code: 50000, status: 500, message: 'Internal server error' },
  SERVER_BUSY: { code: 50003, status: 503, message: 'Server is busy, try again later' },
} as const satisfies Record<string, ErrorDefinition>;

export interface ErrorDefinition {
  /** The code in the reply envelope. */
  readonly code: number;
  /** The HTTP status when errors are mirrored into HTTP (ERROR_HTTP_STATUS=mirror); by default a status below 500 is answered as 200. */
  readonly status: number;
  /** The default English message; a thrown error may give a more precise one. */
  readonly message: string;
}

export type ErrorName = keyof typeof ErrorCatalogue;

/** A business error, thrown by name: `throw new ApiError('USER_EXISTS', 'username is taken')`. */
export class ApiError extends Error {
  readonly definition: ErrorDefinition;

  constructor(
    readonly errorName: ErrorName,
    message?: string,
    /** Extra reply headers, such as `Retry-After` on a throttled request. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message ?? ErrorCatalogue[errorName].message);
    this.name = 'ApiError';
    this.definition = ErrorCatalogue[errorName];
  }
}
