/**
 * What the benchmark measures, row by row: each login route at three concurrencies, then the
 * cases that must cost the same as a success (wrong password, unknown user), a login that
 * registers a device, one diagnostic row that sends a request through the whole HTTP pipeline
 * without reaching the password check, and token verification: in this process with
 * libs/auth-client, and over HTTP by introspection.
 *
 * Every login row cycles through all provisioned users, so the database sees many different rows,
 * as it would in production, rather than one hot user. The verification rows cycle through tokens
 * the service issued to the first VERIFICATION_TOKENS users.
 */
import type { ServiceReady } from './protocol';

export type LoginRoute = '/token/id' | '/token/login' | '/token/user';
export type Route = LoginRoute | '/token/introspect';

export type RowKind =
  /** A successful login. */
  | 'login'
  /** A known user, a wrong password: 401 10101 after one verification. */
  | 'wrong-password'
  /** An unknown user: 401 10101 after one verification against a dummy hash. */
  | 'unknown-user'
  /** A successful login with `device_guid`: the device is upserted in the same statement as the session. */
  | 'device'
  /** An empty body: rejected by validation (400 10002) before Passport, the database or argon2. */
  | 'pipeline'
  /** A valid access token, checked by POST /token/introspect with an admin token: 200, active. */
  | 'introspection'
  /** Valid access tokens verified in the benchmark's own process by libs/auth-client's `verifySync`. */
  | 'auth-client';

/** The rows whose every request costs one argon2id verification: compared with the hash-only line. */
export function hashesPerRequest(kind: RowKind): number {
  return kind === 'login' || kind === 'wrong-password' || kind === 'unknown-user' || kind === 'device' ? 1 : 0;
}

/** A row of HTTP load (autocannon against the service). */
export interface HttpRowPlan {
  readonly type: 'http';
  readonly label: string;
  readonly route: Route;
  readonly kind: RowKind;
  readonly concurrency: number;
  /** Headers besides content-type, app_id and user-agent. */
  readonly headers: Record<string, string>;
  /** True when the bodies need access tokens of the service (`bodies` gets them). */
  readonly needsTokens: boolean;
  readonly bodies: (tokens: readonly string[]) => readonly string[];
  readonly expectStatus: number;
  readonly expectBody: (body: string) => boolean;
}

/** The in-process row: libs/auth-client verifying the service's tokens in the benchmark's process. */
export interface InProcessRowPlan {
  readonly type: 'in-process';
  readonly label: string;
  readonly kind: 'auth-client';
  readonly needsTokens: true;
}

export type RowPlan = HttpRowPlan | InProcessRowPlan;

export const LOGIN_CONCURRENCIES = [1, 16, 64] as const;
/** The failure and device rows run at the saturating concurrency, like the throughput target. */
export const CONTRAST_CONCURRENCY = 64;
/** Enough connections to keep the pipeline row busy without making it a connection test. */
const PIPELINE_CONCURRENCY = 16;
/** Introspection, like the pipeline row: 16 ≫ cores keeps the service busy. */
export const INTROSPECTION_CONCURRENCY = 16;
/** Access tokens for the verification rows: one per introspection connection. */
export const VERIFICATION_TOKENS = 16;
/** Device ids per user: the first login with each one inserts a device, later ones update it. */
const DEVICES_PER_USER = 2;
export const USER_AGENT = 'im-sdk-bench/1.0 (Linux; Android 14) okhttp/4.12';

export function planRows(service: ServiceReady): RowPlan[] {
  const { users, password } = service;
  const json = (body: object): string => JSON.stringify(body);
  const http = (
    row: Omit<HttpRowPlan, 'type' | 'headers' | 'needsTokens' | 'bodies'> & Partial<Pick<HttpRowPlan, 'headers' | 'needsTokens'>> & { bodies: readonly string[] },
  ): HttpRowPlan => {
    const bodies = row.bodies;
    return { type: 'http', headers: {}, needsTokens: false, ...row, bodies: () => bodies };
  };

  const loginBodies: Record<LoginRoute, string[]> = {
    '/token/id': users.map((user) => json({ user_id: user.id, password })),
    // A login name of each kind in turn: username, email, national mobile number.
    '/token/login': users.map((user, i) => json({ login_name: [user.username, user.email, user.mobile][i % 3], password })),
    '/token/user': users.map((user) => json({ name: user.username, password })),
  };

  const rows: RowPlan[] = [];
  for (const route of Object.keys(loginBodies) as LoginRoute[]) {
    for (const concurrency of LOGIN_CONCURRENCIES) {
      rows.push(http({ label: `POST ${route}`, route, kind: 'login', concurrency, bodies: loginBodies[route], ...expectToken() }));
    }
  }
  rows.push(
    http({
      label: 'POST /token/id + device_guid',
      route: '/token/id',
      kind: 'device',
      concurrency: CONTRAST_CONCURRENCY,
      bodies: Array.from({ length: users.length * DEVICES_PER_USER }, (_, i) =>
        json({ user_id: users[i % users.length].id, password, device_guid: `bench-device-${i % users.length}-${Math.floor(i / users.length)}` }),
      ),
      ...expectToken({ withPushToken: true }),
    }),
  );
  rows.push(
    http({
      label: 'POST /token/user, wrong password',
      route: '/token/user',
      kind: 'wrong-password',
      concurrency: CONTRAST_CONCURRENCY,
      bodies: users.map((user) => json({ name: user.username, password: `${password}!` })),
      ...expectError(401, 10101),
    }),
  );
  rows.push(
    http({
      label: 'POST /token/user, unknown user',
      route: '/token/user',
      kind: 'unknown-user',
      concurrency: CONTRAST_CONCURRENCY,
      bodies: users.map((_user, i) => json({ name: `nobody_${i}`, password })),
      ...expectError(401, 10101),
    }),
  );
  rows.push(
    http({
      label: 'pipeline only: empty body, 400',
      route: '/token/user',
      kind: 'pipeline',
      concurrency: PIPELINE_CONCURRENCY,
      bodies: ['{}'],
      ...expectError(400, 10002),
    }),
  );
  rows.push({ type: 'in-process', label: 'token verification: auth-client (in-process verifySync)', kind: 'auth-client', needsTokens: true });
  rows.push({
    type: 'http',
    label: 'token verification: POST /token/introspect',
    route: '/token/introspect',
    kind: 'introspection',
    concurrency: INTROSPECTION_CONCURRENCY,
    headers: { 'access-token': service.adminToken },
    needsTokens: true,
    bodies: (tokens) => tokens.map((token) => json({ token })),
    expectStatus: 200,
    expectBody: (body) => {
      const reply = parse(body) as { code?: unknown; data?: { active?: unknown } } | undefined;
      return reply?.code === 200 && reply.data?.active === true;
    },
  });
  return rows;
}

function expectToken(options: { withPushToken?: boolean } = {}): Pick<HttpRowPlan, 'expectStatus' | 'expectBody'> {
  return {
    expectStatus: 200,
    expectBody: (body) => {
      const reply = parse(body);
      return reply?.code === 200 && typeof reply.data?.token === 'string' && (!options.withPushToken || typeof reply.data.push_token === 'string');
    },
  };
}

function expectError(status: number, code: number): Pick<HttpRowPlan, 'expectStatus' | 'expectBody'> {
  return { expectStatus: status, expectBody: (body) => parse(body)?.code === code };
}

function parse(body: string): { code?: unknown; data?: { token?: unknown; push_token?: unknown } } | undefined {
  try {
    return JSON.parse(body) as { code?: unknown; data?: { token?: unknown; push_token?: unknown } };
  } catch {
    return undefined; // not JSON: the check fails and the row counts it as an error
  }
}
