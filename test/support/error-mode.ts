/**
 * The error mode the harness starts services in (TestService and the child processes) unless a
 * test asks otherwise. Most e2e tests assert the HTTP status an error maps to (401 for 10101, 403
 * for 10010...), which the service's own default, ERROR_HTTP_STATUS=200 (the platform's
 * convention), answers as 200: mirroring keeps those assertions meaningful. Tests of the platform
 * contract pass `{ ERROR_HTTP_STATUS: undefined }` to run on the service's default, as a
 * deployment does.
 */
export const HARNESS_ERROR_MODE = { ERROR_HTTP_STATUS: 'mirror' } as const;
