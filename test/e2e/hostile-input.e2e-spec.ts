/**
 * Hostile input, generated: whatever is thrown at the login and registration routes (any JSON
 * value, the right keys with the wrong types, huge strings, NUL and control characters, lone
 * surrogates, look-alikes, extreme numbers, any Content-Type or Content-Encoding, bytes that are
 * not UTF-8, odd header values), every reply is the envelope with a catalogue code and the status
 * that code mirrors, never a 5xx, and a refused request writes no row.
 *
 * Property-based with fast-check, seeded so that a run can be replayed: a failure prints the
 * seed, the path and the shrunk counterexample; `HOSTILE_SEED=<n>` runs another seed.
 */
import fc from 'fast-check';
import { TestService, type TestApp } from '../support/test-service';
import { ErrorCatalogue } from '../../libs/contract/src/error-catalogue';
import type { UserEntity } from '../../apps/auth/src/users/user.entity';

const SEED = Number(process.env.HOSTILE_SEED ?? 20261126);
const PASSWORD = 'correct horse battery';
const USERNAME = 'hostile_target';
const EMAIL = 'target@example.com';
const MOBILE = '+8613800138001';
/** Mirrored HTTP status of every catalogue code: the only codes an error reply may carry. */
const STATUS_OF: ReadonlyMap<number, number> = new Map(Object.values(ErrorCatalogue).map((error) => [error.code, error.status]));

type Route = '/token/id' | '/token/login' | '/token/user' | '/user/register/v2';
const LOGIN_ROUTES: readonly Route[] = ['/token/id', '/token/login', '/token/user'];

/** One generated request. Headers are pairs, so that a header can be sent twice. */
interface HostileRequest {
  path: Route;
  headers: Array<[string, string]>;
  body?: string | Uint8Array;
  /** For a login body built as an object: the device a success would register (undefined: none). */
  deviceGuid?: string;
}

/** JSON text spliced in as is: numbers JSON.stringify cannot write (-0, 1e400) and odd objects. */
class RawJson {
  constructor(readonly text: string) {}
  [fc.toStringMethod](): string {
    return `raw(${this.text})`;
  }
}

/** JSON.stringify, except RawJson, -0, and keys such as `__proto__` written as they are. */
function jsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(jsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .map((key) => `${JSON.stringify(key)}:${jsonText((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

// ---- generators: strings and values ------------------------------------------------------------

const charOf = (min: number, max: number) => fc.integer({ min, max }).map((code) => String.fromCharCode(code));
const controlChar = fc.oneof(charOf(0x00, 0x1f), fc.constantFrom('\u0000', '\u007f', '\u0085', '\u2028', '\u2029', '\u200b', '\ufeff', '\u202e'));
const loneSurrogate = charOf(0xd800, 0xdfff);
/** Characters that look like (or NFKC-normalize to) ASCII ones, and combining marks. */
const lookAlikeChar = fc.constantFrom('а', 'е', 'о', 'і', 'ο', 'ｅ', 'Ａ', '＠', '．', '＿', 'ℌ', 'ﬁ', 'Ⅸ', '𝐚', 'ı', 'İ', 'ß', 'K', '\u0301', '١', '１');
const hostileChar = fc.oneof(
  { weight: 4, arbitrary: charOf(0x20, 0x7e) },
  { weight: 2, arbitrary: controlChar },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 2, arbitrary: lookAlikeChar },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
const hostileString = fc.string({ unit: hostileChar, maxLength: 40 });
/** 1 000 to 20 000 characters: around and over BODY_LIMIT_BYTES (16 KiB) once written as JSON. */
const hugeString = fc
  .tuple(fc.string({ unit: hostileChar, minLength: 1, maxLength: 4 }), fc.integer({ min: 1_000, max: 20_000 }))
  .map(([piece, length]) => piece.repeat(Math.ceil(length / piece.length)).slice(0, length));
const oddNumber = fc.oneof(
  fc.constantFrom(1e308, -1e308, 0, -0, 1, -1, 1.5, 2 ** 53, 2 ** 53 - 1, -(2 ** 53), Number.MIN_VALUE, 1e21, 4294967296),
  fc.constantFrom('1e400', '-1e400', '-0', '-0.0', '9007199254740993', '123456789012345678901234567890', '1E2', '1.0', '0e0').map((text) => new RawJson(text)),
  fc.double(),
  fc.integer(),
);
const numericString = fc.constantFrom(
  '9007199254740992', '9007199254740991', '-0', '0', '00012', ' 12', '12 ', '1e3', '0x1F', '１２３', '١٢٣', '+12', '1_000', 'NaN', 'Infinity', '', '12\u0000',
);
const oddObject = fc.oneof(
  fc.dictionary(hostileString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  fc.constantFrom('{"__proto__":{"isAdmin":true}}', '{"constructor":{"prototype":{"polluted":1}}}', '{"$gt":0}', '{"toString":"x","valueOf":1}').map((text) => new RawJson(text)),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constant(null),
  fc.boolean(),
  hostileString,
  hugeString,
  oddNumber,
  numericString,
  oddObject,
  fc.array(fc.oneof(hostileString, oddNumber, fc.constant(null), fc.jsonValue({ maxDepth: 1 })), { maxLength: 4 }),
);

/** A field that is sometimes plausible (so the body gets past validation) and often hostile. */
const field = (plausible: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 3, arbitrary: plausible }, { weight: 2, arbitrary: hostileValue });

const lookAlikeUsername = fc.constantFrom(
  USERNAME, 'HOSTILE_TARGET', 'ｈｏｓｔｉｌｅ＿ｔａｒｇｅｔ', 'hostіle_target', 'hostile_targeт', ` ${USERNAME} `, `${USERNAME}\u200b`, `${USERNAME}\u0000`, 'nobody_here',
);
const passwords = fc.oneof(
  { weight: 1, arbitrary: fc.constant(PASSWORD) },
  { weight: 4, arbitrary: fc.constantFrom('wrong password', 'p'.repeat(256), 'p'.repeat(257), '短', `${PASSWORD}\u0000`, `${PASSWORD} `, '\ud800\ud800\ud800\ud800\ud800\ud800\ud800\ud800') },
  { weight: 3, arbitrary: hostileString },
);
const deviceGuids = fc.oneof(fc.constantFrom(null, 'phone-1', 'a b', 'x'.repeat(128), 'x'.repeat(129), 'ｐｈｏｎｅ', 'dev\u0000ice'), hostileString);
const extraKeys = fc.dictionary(fc.oneof(hostileString, fc.constantFrom('__proto__', 'constructor', 'user_id', 'isAdmin')), hostileValue, { maxKeys: 3 });

/** The right keys (each may be missing) with plausible or hostile values, and maybe extra keys. */
function bodyWithKeys(path: Route, user: UserEntity): fc.Arbitrary<Record<string, unknown>> {
  const login = { password: field(passwords), device_guid: field(deviceGuids) };
  const keys: Record<Route, Record<string, fc.Arbitrary<unknown>>> = {
    '/token/id': { user_id: field(fc.constantFrom(user.id, String(user.id), 1234567890123, `${user.id}.0`, user.id + 0.5)), ...login },
    '/token/login': { login_name: field(fc.oneof(lookAlikeUsername, fc.constantFrom(EMAIL, 'TARGET@EXAMPLE.COM', MOBILE, '13800138001', '+86 138 0013 8001', 'target@ｅxample.com', `${EMAIL}\u0000`))), ...login },
    '/token/user': { name: field(lookAlikeUsername), ...login },
    '/user/register/v2': {
      username: field(fc.constantFrom('fresh_user', 'Fresh_User', 'ｆｒｅｓｈ', 'fresh user', 'fresh@user', '12345', 'maxim_x', 'x'.repeat(65), '张三_1')),
      password: field(fc.constantFrom('fresh password', 'short', 'p'.repeat(257), 'fresh\u0000password')),
      // null: what many clients send for an optional field they leave empty.
      mobile: field(fc.constantFrom(null, '+8613900139000', '13900139000', '+1', '+86 139 0013 9000\u0000', '１３９００１３９０００')),
      email: field(fc.constantFrom(null, 'fresh@example.com', 'FRESH@example.com', 'not-an-email', 'a@b', 'fresh@exa\u0000mple.com', 'ｆｒｅｓｈ@example.com')),
    },
  };
  return fc
    .tuple(fc.record(keys[path], { requiredKeys: [] }), fc.option(extraKeys, { nil: undefined }))
    .map(([known, extra]) => ({ ...(extra ?? {}), ...known }));
}

/** Characters fetch sends in a header value (no NUL, CR, LF or other controls but tab). */
const headerChar = fc.oneof({ weight: 6, arbitrary: charOf(0x20, 0x7e) }, { weight: 1, arbitrary: fc.constant('\t') }, { weight: 2, arbitrary: charOf(0x80, 0xff) });
const oddHeaderValue = fc.oneof(
  fc.string({ unit: headerChar, maxLength: 64 }),
  fc.constantFrom('', ' ', 'null', 'undefined', '0', '-1', '1, 2', '9223372036854775807', '9223372036854775808', '1e3', ' 12 ', '\u00ff\u00fe', '\u00bd'),
);
const contentTypes = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/merge-patch+json') },
  fc.constantFrom(
    'application/json', 'APPLICATION/JSON', 'application/json; charset=utf-8', 'application/json; charset=UTF-16', 'application/json; charset=iso-8859-1',
    'application/json; charset=nope', 'application/json;;;', 'application/vnd.api+json', 'application/jsonp', 'application/json-seq', 'text/json',
    'text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', '*/*', '',
  ),
  fc.string({ unit: headerChar, maxLength: 40 }),
  fc.string({ unit: headerChar, maxLength: 20 }).map((suffix) => `application/json${suffix}`),
);
/** Mostly encodings the parser does decompress: the body is never really compressed. */
const contentEncodings = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'GZIP') },
  fc.constantFrom('identity', 'IDENTITY', 'compress', 'x-unknown', 'gzip, deflate', ''),
);

/** UTF-8 bytes of a JSON object with invalid UTF-8 (lone continuation bytes, overlongs, encoded surrogates) inside its strings. */
const invalidUtf8Json = fc
  .tuple(
    fc.constantFrom('name', 'login_name', 'user_id', 'username', 'password'),
    fc.array(fc.oneof(fc.integer({ min: 0x80, max: 0xff }), fc.constantFrom(0xc0, 0xc1, 0xf5, 0xff, 0xfe)), { minLength: 1, maxLength: 8 }),
    fc.constantFrom([0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xf4, 0x90, 0x80, 0x80], []),
  )
  .map(([key, bytes, special]) =>
    Buffer.concat([
      Buffer.from(`{"${key}":"`),
      Buffer.from([...bytes, ...special]),
      Buffer.from(`","password":"not the password"}`),
    ]),
  )
  .map((buffer) => new Uint8Array(buffer));
const rawBody = fc.oneof(
  fc.uint8Array({ maxLength: 256 }),
  invalidUtf8Json,
  fc.integer({ min: 15_000, max: 20_000 }).map((length) => new Uint8Array(length).fill(0xff)),
  hostileString,
  fc.constantFrom('{}', '[]', 'null', '"x"', '1', '{"name":', '{"name":"hostile_target","password":"wrong password"}', '\ufeff{}', '{"a":1}{"b":2}', '{"a":1,}'),
);

// ---- the test ----------------------------------------------------------------------------------

describe('hostile input to the login and registration routes', () => {
  let service: TestService;
  let closed: TestApp; // registration needs an admin token
  let open: TestApp; // open registration: a request without a token reaches validation
  let user: UserEntity;
  let userToken: string;
  let before: RowCounts;
  const accepted = { registrations: [] as number[], logins: [] as Array<{ userId: number; deviceGuid: string | undefined }> };
  let sent = 0;

  interface RowCounts {
    users: number;
    devices: number;
    sessions: number;
  }

  async function countRows(): Promise<RowCounts> {
    const [row] = await service.dataSource.query(
      `SELECT (SELECT count(*) FROM app_user WHERE app_id IN ($1, $2))::int AS users,
              (SELECT count(*) FROM device WHERE app_id IN ($1, $2))::int AS devices,
              (SELECT count(*) FROM session WHERE app_id IN ($1, $2))::int AS sessions`,
      [closed.app.id, open.app.id],
    );
    return row as RowCounts;
  }

  beforeAll(async () => {
    service = await TestService.start();
    // Failed logins are the point here: the throttle must not turn them into 429s.
    const limits = { loginFreeFailures: 1000, loginIpFreeFailures: 100000, defaultRegion: 'CN' };
    [closed, open] = await Promise.all([service.createApp(limits), service.createApp({ ...limits, openRegistration: true })]);
    user = await service.createUser(closed.app, { username: USERNAME, email: EMAIL, mobile: MOBILE, password: PASSWORD });
    await service.createUser(open.app, { username: USERNAME, email: EMAIL, mobile: MOBILE, password: PASSWORD });
    userToken = (await service.post('/token/user', { appId: closed.app.id, body: { name: USERNAME, password: PASSWORD } })).body.data.token;
    before = await countRows();
  });
  afterAll(() => service.close());

  /** Sends one request and checks every invariant of its reply; throws (failing the property) otherwise. */
  async function sendAndCheck(request: HostileRequest): Promise<void> {
    sent++;
    const response = await fetch(`${service.baseUrl}${request.path}`, { method: 'POST', headers: request.headers, body: request.body });
    const text = await response.text();
    const status = response.status;
    const fail = (why: string): never => {
      throw new Error(`${why}: HTTP ${status} ${text.slice(0, 300)}`);
    };
    if (status >= 500) fail('a 5xx reply');
    let body: { code?: unknown; message?: unknown; data?: unknown };
    try {
      body = JSON.parse(text);
    } catch {
      return fail('a body that is not JSON');
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) fail('a body that is not a JSON object');
    if (Object.keys(body).sort().join() !== 'code,data,message') fail('a body whose keys are not exactly code, message, data');
    if (body.code === 200) {
      if (body.data === null || body.data === undefined) fail('a success without data');
      if (body.message !== null) fail('a success whose message is not null');
      if (status !== 200) fail('a success answered with another HTTP status');
      const userId = (body.data as { user_id?: unknown }).user_id;
      if (typeof userId !== 'number') fail('a success without a numeric user_id');
      if (request.path === '/user/register/v2') accepted.registrations.push(userId as number);
      else accepted.logins.push({ userId: userId as number, deviceGuid: request.deviceGuid });
      return;
    }
    if (typeof body.code !== 'number' || !STATUS_OF.has(body.code)) fail('a code that is not in the error catalogue');
    if (body.data !== null) fail('an error whose data is not null');
    if (typeof body.message !== 'string') fail('an error whose message is not a string');
    if (status !== STATUS_OF.get(body.code as number)) fail(`an HTTP status other than the catalogue's ${STATUS_OF.get(body.code as number)} for ${body.code}`);
  }

  const targets: Array<{ label: string; path: Route; token: 'admin' | 'none' }> = [
    { label: 'POST /token/id', path: '/token/id', token: 'none' },
    { label: 'POST /token/login', path: '/token/login', token: 'none' },
    { label: 'POST /token/user', path: '/token/user', token: 'none' },
    { label: 'POST /user/register/v2 with an admin token', path: '/user/register/v2', token: 'admin' },
    { label: 'POST /user/register/v2 without an admin token', path: '/user/register/v2', token: 'none' },
  ];

  it.each(targets.map((target, index) => ({ ...target, seed: SEED + index })))('answers any JSON body on $label with the envelope and a catalogue code, never a 5xx', async ({ path, token, seed }) => {
    const body = fc.oneof(
      { weight: 5, arbitrary: bodyWithKeys(path, user) },
      { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
      { weight: 1, arbitrary: hostileValue },
    );
    const request = fc
      .record({
        body,
        // Mostly the app whose user the bodies name; without a token, mostly the open one.
        app: token === 'admin' ? fc.constantFrom(closed, open) : fc.oneof({ weight: 3, arbitrary: fc.constant(open) }, { weight: 1, arbitrary: fc.constant(closed) }),
        staleToken: fc.option(fc.constantFrom('not-a-token', 'adm_unknown', userToken), { nil: undefined }),
      })
      .map(({ body, app, staleToken }): HostileRequest => {
        const headers: Array<[string, string]> = [['content-type', 'application/json'], ['app_id', app.app.id]];
        if (token === 'admin') headers.push(['access-token', app.adminToken]);
        else if (staleToken !== undefined && path !== '/user/register/v2') headers.push(['access-token', staleToken]);
        const deviceGuid = (body as { device_guid?: unknown } | null)?.device_guid;
        return { path, headers, body: jsonText(body), deviceGuid: typeof deviceGuid === 'string' && deviceGuid !== '' ? deviceGuid : undefined };
      });
    await fc.assert(fc.asyncProperty(request, sendAndCheck), { seed, numRuns: 40 });
  }, 120_000);

  it('answers raw bodies (bytes that are not UTF-8, not JSON, too large) under any Content-Type and Content-Encoding with the envelope', async () => {
    const request = fc
      .record({
        path: fc.constantFrom<Route>(...LOGIN_ROUTES, '/user/register/v2'),
        body: rawBody,
        contentType: fc.option(contentTypes, { nil: undefined, freq: 8 }),
        contentEncoding: fc.option(contentEncodings, { nil: undefined, freq: 3 }),
      })
      .map(({ path, body, contentType, contentEncoding }): HostileRequest => {
        const headers: Array<[string, string]> = [['app_id', closed.app.id], ['access-token', closed.adminToken]];
        if (contentType !== undefined) headers.push(['content-type', contentType]);
        if (contentEncoding !== undefined) headers.push(['content-encoding', contentEncoding]);
        return { path, headers, body };
      });
    await fc.assert(fc.asyncProperty(request, sendAndCheck), { seed: SEED + targets.length, numRuns: 50 });
  }, 120_000);

  it('answers odd app_id, group_id, user_id and access-token header values with the envelope', async () => {
    const header = (plausible: fc.Arbitrary<string>) =>
      fc.option(fc.oneof({ weight: 2, arbitrary: plausible }, { weight: 3, arbitrary: oddHeaderValue }), { nil: undefined });
    const request = fc
      .record({
        path: fc.constantFrom<Route>(...LOGIN_ROUTES, '/user/register/v2'),
        appId: fc.oneof(
          { weight: 4, arbitrary: fc.constant(closed.app.id) },
          { weight: 3, arbitrary: oddHeaderValue },
          { weight: 1, arbitrary: fc.constantFrom(`${closed.app.id} `, closed.app.id.toUpperCase(), `${closed.app.id}\u00a0`, `${closed.app.id}, ${closed.app.id}`) },
        ),
        appIdTwice: fc.boolean(),
        groupId: header(fc.constantFrom('1', '42', '9223372036854775807')),
        userId: header(fc.constantFrom('1', String(user.id))),
        accessToken: header(fc.constantFrom(closed.adminToken, open.adminToken, userToken, `${closed.adminToken}x`, 'adm_', 'Bearer x', `${userToken.slice(0, -2)}AA`)),
      })
      .map(({ path, appId, appIdTwice, groupId, userId, accessToken }): HostileRequest => {
        const headers: Array<[string, string]> = [['content-type', 'application/json'], ['app_id', appId]];
        if (appIdTwice) headers.push(['app_id', appId]);
        if (groupId !== undefined) headers.push(['group_id', groupId]);
        if (userId !== undefined) headers.push(['user_id', userId]);
        if (accessToken !== undefined) headers.push(['access-token', accessToken]);
        const body =
          path === '/user/register/v2'
            ? { username: 'header_probe', password: 'short' } // always refused: below the minimum length
            : { user_id: user.id, login_name: USERNAME, name: USERNAME, password: 'wrong password' };
        return { path, headers, body: JSON.stringify(body) };
      });
    await fc.assert(fc.asyncProperty(request, sendAndCheck), { seed: SEED + targets.length + 1, numRuns: 50 });
  }, 120_000);

  it('wrote no row for a refused request: only accepted registrations and logins left users, sessions and devices', async () => {
    expect(sent).toBeGreaterThan(0);
    const after = await countRows();
    const devices = new Set(accepted.logins.filter((login) => login.deviceGuid !== undefined).map((login) => `${login.userId} ${login.deviceGuid}`));
    expect({ users: after.users - before.users, sessions: after.sessions - before.sessions, devices: after.devices - before.devices }).toEqual({
      users: accepted.registrations.length,
      sessions: accepted.logins.length,
      devices: devices.size,
    });
    if (accepted.registrations.length > 0) {
      const [{ found }] = await service.dataSource.query(`SELECT count(*)::int AS found FROM app_user WHERE id = ANY($1::bigint[])`, [accepted.registrations.map(String)]);
      expect(found).toBe(accepted.registrations.length);
    }
  });

  it('still answers GET /health/live afterwards', async () => {
    const reply = await service.call('GET', '/health/live');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ code: 200, message: null, data: { status: 'up' } });
  });
});
