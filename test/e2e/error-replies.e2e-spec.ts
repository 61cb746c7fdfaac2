/**
 * How every error is answered: the envelope `{code, message, data: null}` with a request id, the
 * HTTP status (200 for business errors by default, as the platform answers; the error's own status
 * with ERROR_HTTP_STATUS=mirror, server-wide or per app), the rules for request bodies, and that a
 * refused request writes nothing.
 */
import { TestService, expectError, type Reply, type TestApp } from '../support/test-service';

const PASSWORD = 'correct horse battery';
const GOOD_LOGIN = { name: 'err_user', password: PASSWORD };

/** An erroneous request, made against a server for an app. */
type BadRequest = (service: TestService, tenant: TestApp) => Promise<Reply>;

/** Errors of every stage of a request, with the HTTP status they mirror and their code. */
const ERRORS: Array<[string, number, number, BadRequest]> = [
  ['wrong credentials', 401, 10101, (s, t) => s.post('/token/user', { appId: t.app.id, body: { name: 'err_user', password: 'wrong password' } })],
  ['a bad parameter', 400, 10002, (s, t) => s.post('/token/user', { appId: t.app.id, body: { name: 'err_user' } })],
  ['a missing access-token', 401, 10003, (s, t) => s.call('GET', '/user/list', { appId: t.app.id })],
  ['an unknown app', 404, 40000, (s) => s.post('/token/user', { appId: 'no-such-app', body: GOOD_LOGIN })],
  ['a missing app_id', 400, 10002, (s) => s.post('/token/user', { body: GOOD_LOGIN })],
  ['an unknown route', 404, 10106, (s, t) => s.call('GET', '/nope', { appId: t.app.id })],
  ['an unknown route without app_id', 404, 10106, (s) => s.call('GET', '/nope')],
  ['a known path with the wrong method', 404, 10106, (s, t) => s.call('GET', '/token/user', { appId: t.app.id })],
];

/** Errors that arise once the app is known, so that an app's own mode applies to them. */
const APP_ERRORS = ERRORS.slice(0, 3);

describe('error replies', () => {
  /** A server started with ERROR_HTTP_STATUS=mirror: the HTTP status mirrors the error. */
  let mirroring: TestService;
  /** A server on the default mode (ERROR_HTTP_STATUS unset, which means 200), on the same database. */
  let always200: TestService;
  /** An app without its own mode: follows whichever server it is called on. */
  let tenant: TestApp;

  beforeAll(async () => {
    mirroring = await TestService.start({ ERROR_HTTP_STATUS: 'mirror' });
    always200 = await TestService.start({ ERROR_HTTP_STATUS: undefined });
    tenant = await mirroring.createApp();
    await mirroring.createUser(tenant.app, { username: 'err_user', password: PASSWORD });
  });
  afterAll(async () => {
    await mirroring.close();
    await always200.close();
  });

  const login = (options: { body?: unknown; rawBody?: string | Buffer; contentType?: string; headers?: Record<string, string> }) =>
    mirroring.post('/token/user', { appId: tenant.app.id, ...options });

  describe('with ERROR_HTTP_STATUS=mirror', () => {
    it.each(ERRORS)('mirrors %s into HTTP %i, code %i in the envelope', async (_label, status, code, request) => {
      expectError(await request(mirroring, tenant), status, code);
    });

    it('answers a success with HTTP 200 and code 200', async () => {
      const reply = await login({ body: GOOD_LOGIN });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ code: 200, message: null });
    });
  });

  describe('by default (ERROR_HTTP_STATUS unset: the platform convention)', () => {
    it.each(ERRORS)('answers %s (mirrored as HTTP %i) with HTTP 200 and the same code %i', async (_label, _status, code, request) => {
      expectError(await request(always200, tenant), 200, code);
    });

    it('answers a success exactly as the mirroring server does', async () => {
      const reply = await always200.post('/token/user', { appId: tenant.app.id, body: GOOD_LOGIN });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ code: 200, message: null });
      expect(typeof reply.body.data.token).toBe('string');
    });
  });

  describe("an app's own errorHttpStatus", () => {
    let quiet: TestApp;
    let loud: TestApp;

    beforeAll(async () => {
      quiet = await mirroring.createApp({ errorHttpStatus: 'always-200' });
      await mirroring.createUser(quiet.app, { username: 'err_user', password: PASSWORD });
      loud = await always200.createApp({ errorHttpStatus: 'mirror' });
      await always200.createUser(loud.app, { username: 'err_user', password: PASSWORD });
    });

    it.each(APP_ERRORS)('answers %s (HTTP %i elsewhere) with HTTP 200 and code %i for an always-200 app on a mirroring server', async (_label, _status, code, request) => {
      expectError(await request(mirroring, quiet), 200, code);
    });

    it.each(APP_ERRORS)('keeps mirroring %s into HTTP %i (code %i) for another app on that server', async (_label, status, code, request) => {
      expectError(await request(mirroring, tenant), status, code);
    });

    it.each(APP_ERRORS)('mirrors %s into HTTP %i (code %i) again for a mirror app on the 200 server', async (_label, status, code, request) => {
      expectError(await request(always200, loud), status, code);
    });

    it("answers an always-200 app's success as usual", async () => {
      const reply = await mirroring.post('/token/user', { appId: quiet.app.id, body: GOOD_LOGIN });
      expect(reply.status).toBe(200);
      expect(reply.body.code).toBe(200);
    });

    it('leaves errors raised before any app is known (missing or unknown app_id) to the server-wide mode', async () => {
      expectError(await mirroring.post('/token/user', { body: GOOD_LOGIN }), 400, 10002, /app_id/);
      expectError(await mirroring.post('/token/user', { appId: 'no-such-app', body: GOOD_LOGIN }), 404, 40000);
      expectError(await always200.post('/token/user', { body: GOOD_LOGIN }), 200, 10002, /app_id/);
      expectError(await always200.post('/token/user', { appId: 'no-such-app', body: GOOD_LOGIN }), 200, 40000);
    });
  });

  describe('request bodies', () => {
    it('refuses a body that is not application/json with 415 / 10105', async () => {
      expectError(await login({ rawBody: JSON.stringify(GOOD_LOGIN), contentType: 'text/plain' }), 415, 10105);
    });

    it('refuses JSON in a charset other than UTF-8 with 415 / 10105', async () => {
      expectError(await login({ rawBody: JSON.stringify(GOOD_LOGIN), contentType: 'application/json; charset=iso-8859-1' }), 415, 10105);
    });

    it.each([['application/json; charset=UTF-16'], ['application/json; charset=utf8']])('refuses %s (the charset must be named utf-8) with 415 / 10105', async (contentType) => {
      expectError(await login({ rawBody: JSON.stringify(GOOD_LOGIN), contentType }), 415, 10105, /UTF-8/);
    });

    it('refuses a body with a Content-Encoding with 415 / 10105', async () => {
      expectError(await login({ rawBody: JSON.stringify(GOOD_LOGIN), headers: { 'content-encoding': 'gzip' } }), 415, 10105, /UTF-8/);
    });

    it('accepts a JSON-based type, application/*+json', async () => {
      const reply = await login({ rawBody: JSON.stringify(GOOD_LOGIN), contentType: 'application/merge-patch+json' });
      expect(reply.body.code).toBe(200);
    });

    it('accepts application/json; charset=utf-8', async () => {
      const reply = await login({ rawBody: JSON.stringify(GOOD_LOGIN), contentType: 'application/json; charset=utf-8' });
      expect(reply.status).toBe(200);
      expect(reply.body.code).toBe(200);
    });

    it('refuses a body over 16 KiB with 413 / 10104', async () => {
      const rawBody = JSON.stringify({ ...GOOD_LOGIN, padding: 'x'.repeat(20 * 1024) });
      expectError(await login({ rawBody }), 413, 10104);
    });

    it('reads a body of exactly 16 KiB', async () => {
      const skeleton = JSON.stringify({ ...GOOD_LOGIN, padding: '' });
      const rawBody = JSON.stringify({ ...GOOD_LOGIN, padding: 'x'.repeat(16 * 1024 - skeleton.length) });
      expect(Buffer.byteLength(rawBody)).toBe(16 * 1024);
      expect((await login({ rawBody })).body.code).toBe(200);
    });

    it('refuses malformed JSON with 400 / 10002 "not valid JSON"', async () => {
      expectError(await login({ rawBody: '{"name": "err_user", "password": ' }), 400, 10002, /not valid JSON/);
    });

    it.each([['"a string"'], ['[1]'], ['null'], ['42']])('refuses the JSON body %s with 400 / 10002', async (rawBody) => {
      expectError(await login({ rawBody }), 400, 10002);
    });

    it('answers invalid UTF-8 in a JSON body with a 4xx in the envelope, never a 5xx', async () => {
      const rawBody = Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
      const reply = await login({ rawBody });
      expect(reply.status).toBeGreaterThanOrEqual(400);
      expect(reply.status).toBeLessThan(500);
      expect(reply.body).toEqual({ code: expect.any(Number), message: expect.any(String), data: null });
      expect(reply.body.code).not.toBe(200);
    });

    it('reads a POST without a body as {} and names the first missing field (400 / 10002)', async () => {
      expectError(await login({}), 400, 10002, /name or mobile is required/);
    });
  });

  describe('the envelope of every error', () => {
    const ALL_ERRORS: Array<[string, BadRequest]> = [
      ...ERRORS.map(([label, , , request]): [string, BadRequest] => [label, request]),
      ['a body that is not JSON', (s, t) => s.post('/token/user', { appId: t.app.id, rawBody: 'name=err_user', contentType: 'application/x-www-form-urlencoded' })],
      ['a body over the limit', (s, t) => s.post('/token/user', { appId: t.app.id, rawBody: JSON.stringify({ padding: 'x'.repeat(20 * 1024) }) })],
      ['malformed JSON', (s, t) => s.post('/token/user', { appId: t.app.id, rawBody: '{' })],
      ['a garbage access-token', (s, t) => s.call('GET', '/user/list', { appId: t.app.id, token: 'garbage' })],
    ];

    it.each(ALL_ERRORS)('has exactly code, message and data: null, and an x-request-id, for %s', async (_label, request) => {
      const reply = await request(mirroring, tenant);
      expect(Object.keys(reply.body).sort()).toEqual(['code', 'data', 'message']);
      expect(reply.body.data).toBeNull();
      expect(reply.body.code).not.toBe(200);
      expect(typeof reply.body.message).toBe('string');
      expect(reply.body.message.length).toBeGreaterThan(0);
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
      expect(reply.headers.get('x-request-id')).toMatch(/^[\w.:-]{1,128}$/);
    });

    it('gives each reply its own request id', async () => {
      const [a, b] = await Promise.all([ERRORS[0][3](mirroring, tenant), ERRORS[0][3](mirroring, tenant)]);
      expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
    });

    it('echoes an incoming x-request-id on an error and on a success', async () => {
      const error = await login({ body: { name: 'err_user' }, headers: { 'x-request-id': 'abc-123' } });
      expect(error.headers.get('x-request-id')).toBe('abc-123');
      const unknownRoute = await mirroring.call('GET', '/nope', { headers: { 'x-request-id': 'abc-123' } });
      expect(unknownRoute.headers.get('x-request-id')).toBe('abc-123');
      const success = await login({ body: GOOD_LOGIN, headers: { 'x-request-id': 'abc-123' } });
      expect(success.headers.get('x-request-id')).toBe('abc-123');
    });

    it('replaces an incoming x-request-id that does not look like an id', async () => {
      const reply = await login({ body: { name: 'err_user' }, headers: { 'x-request-id': 'not an id; <script>' } });
      const echoed = reply.headers.get('x-request-id');
      expect(echoed).not.toBe('not an id; <script>');
      expect(echoed).toMatch(/^[\w.:-]{1,128}$/);
    });
  });

  it('writes no session or user row for any refused request', async () => {
    const rows = async () => {
      const [row] = await mirroring.dataSource.query(
        `SELECT (SELECT count(*) FROM session WHERE app_id = $1) AS sessions, (SELECT count(*) FROM app_user WHERE app_id = $1) AS users`,
        [tenant.app.id],
      );
      return { sessions: Number(row.sessions), users: Number(row.users) };
    };
    const appId = tenant.app.id;
    const before = await rows();

    const replies = await Promise.all([
      ...ERRORS.map(([, , , request]) => request(mirroring, tenant)),
      ...ERRORS.map(([, , , request]) => request(always200, tenant)),
      login({ rawBody: JSON.stringify(GOOD_LOGIN), contentType: 'text/plain' }),
      login({ rawBody: JSON.stringify({ ...GOOD_LOGIN, padding: 'x'.repeat(20 * 1024) }) }),
      login({ rawBody: '{"name": "err_user", "password": ' }),
      login({ rawBody: '[1]' }),
      login({ rawBody: Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) }),
      login({ body: { name: 'err_user', password: PASSWORD, device_guid: 'has spaces' } }),
      mirroring.post('/user/register/v2', { appId, body: { username: 'never_made', password: PASSWORD } }),
      mirroring.post('/user/register/v2', { appId, rawBody: JSON.stringify({ username: 'never_made', password: PASSWORD }), contentType: 'text/plain' }),
      mirroring.post('/user/register/v2', { appId, token: tenant.adminToken, body: { username: 'never made', password: PASSWORD } }),
      mirroring.post('/user/register/batch', { appId, body: { list: [{ username: 'never_made', password: PASSWORD }] } }),
      mirroring.post('/user/register/batch', { appId, token: 'garbage', body: { list: [{ username: 'never_made', password: PASSWORD }] } }),
    ]);

    for (const reply of replies) expect(reply.body.code).not.toBe(200);
    expect(await rows()).toEqual(before);
  });
});
