/**
 * What the benchmark measures, row by row: each login route at three concurrencies, then the
 * cases that must cost the same as a success (wrong password, unknown user), a login that
 * registers a device, and one diagnostic row that sends a request through the whole HTTP pipeline
 * without reaching the password check.
 *
 * Every row cycles through all provisioned users, so the database sees many different rows, as it
 * would in production, rather than one hot user.
 */
import type { ServiceReady } from './protocol';

export type LoginRoute = '/token/id' | '/token/login' | '/token/user';

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
  | 'pipeline';

export interface RowPlan {
  readonly label: string;
  readonly route: LoginRoute;
  readonly kind: RowKind;
  readonly concurrency: number;
  readonly bodies: readonly string[];
  readonly expectStatus: number;
  readonly expectBody: (body: string) => boolean;
}

export const LOGIN_CONCURRENCIES = [1, 16, 64] as const;
/** The failure and device rows run at the saturating concurrency, like the throughput target. */
export const CONTRAST_CONCURRENCY = 64;
/** Enough connections to keep the pipeline row busy without making it a connection test. */
const PIPELINE_CONCURRENCY = 16;
/** Device ids per user: the first login with each one inserts a device, later ones update it. */
const DEVICES_PER_USER = 2;
export const USER_AGENT = 'im-sdk-bench/1.0 (Linux; Android 14) okhttp/4.12';

export function planRows(service: ServiceReady): RowPlan[] {
  const { users, password } = service;
  const json = (body: object): string => JSON.stringify(body);

  const loginBodies: Record<LoginRoute, string[]> = {
    '/token/id': users.map((user) => json({ user_id: user.id, password })),
    // A login name of each kind in turn: username, email, national mobile number.
    '/token/login': users.map((user, i) => json({ login_name: [user.username, user.email, user.mobile][i % 3], password })),
    '/token/user': users.map((user) => json({ name: user.username, password })),
  };

  const rows: RowPlan[] = [];
  for (const route of Object.keys(loginBodies) as LoginRoute[]) {
    for (const concurrency of LOGIN_CONCURRENCIES) {
      rows.push({ label: `POST ${route}`, route, kind: 'login', concurrency, bodies: loginBodies[route], ...expectToken() });
    }
  }
  rows.push({
    label: 'POST /token/id + device_guid',
    route: '/token/id',
    kind: 'device',
    concurrency: CONTRAST_CONCURRENCY,
    bodies: Array.from({ length: users.length * DEVICES_PER_USER }, (_, i) =>
      json({ user_id: users[i % users.length].id, password, device_guid: `bench-device-${i % users.length}-${Math.floor(i / users.length)}` }),
    ),
    ...expectToken({ withPushToken: true }),
  });
  rows.push({
    label: 'POST /token/user, wrong password',
    route: '/token/user',
    kind: 'wrong-password',
    concurrency: CONTRAST_CONCURRENCY,
    bodies: users.map((user) => json({ name: user.username, password: `${password}!` })),
    ...expectError(401, 10101),
  });
  rows.push({
    label: 'POST /token/user, unknown user',
    route: '/token/user',
    kind: 'unknown-user',
    concurrency: CONTRAST_CONCURRENCY,
    bodies: users.map((_user, i) => json({ name: `nobody_${i}`, password })),
    ...expectError(401, 10101),
  });
  rows.push({
    label: 'pipeline only: empty body, 400',
    route: '/token/user',
    kind: 'pipeline',
    concurrency: PIPELINE_CONCURRENCY,
    bodies: ['{}'],
    ...expectError(400, 10002),
  });
  return rows;
}

function expectToken(options: { withPushToken?: boolean } = {}): Pick<RowPlan, 'expectStatus' | 'expectBody'> {
  return {
    expectStatus: 200,
    expectBody: (body) => {
      const reply = parse(body);
      return reply?.code === 200 && typeof reply.data?.token === 'string' && (!options.withPushToken || typeof reply.data.push_token === 'string');
    },
  };
}

function expectError(status: number, code: number): Pick<RowPlan, 'expectStatus' | 'expectBody'> {
  return { expectStatus: status, expectBody: (body) => parse(body)?.code === code };
}

function parse(body: string): { code?: unknown; data?: { token?: unknown; push_token?: unknown } } | undefined {
  try {
    return JSON.parse(body) as { code?: unknown; data?: { token?: unknown; push_token?: unknown } };
  } catch {
    return undefined; // not JSON: the check fails and the row counts it as an error
  }
}
