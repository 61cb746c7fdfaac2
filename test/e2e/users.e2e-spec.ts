/**
 * The platform's user endpoints end to end: registration (one user, or a batch), the user list,
 * banning and lifting bans, and who may call them, over real HTTP on real PostgreSQL.
 */
import { TestService, expectError, type CallOptions, type TestApp } from '../support/test-service';
import { AdminTokensService } from '../../apps/auth/src/admin-tokens/admin-tokens.service';
import type { UserEntity } from '../../apps/auth/src/users/user.entity';

const PASSWORD = 'correct horse battery';

describe('the user endpoints', () => {
  let service: TestService;
  /** Open registration off, default password minimum (8), the platform's reserved prefixes. */
  let tenant: TestApp;

  beforeAll(async () => {
    service = await TestService.start();
    tenant = await service.createApp();
  });
  afterAll(() => service.close());

  /** A call made with `app`'s admin token unless `token` says otherwise. */
  const adminCall = (method: string, path: string, body?: unknown, app: TestApp = tenant, options: CallOptions = {}) =>
    service.call(method, path, { appId: app.app.id, token: app.adminToken, body, ...options });

  const register = (body: unknown, app: TestApp = tenant) => adminCall('POST', '/user/register/v2', body, app);

  const login = (app: TestApp, name: string, password = PASSWORD) => service.post('/token/user', { appId: app.app.id, body: { name, password } });

  /** A user access token, got the way a client gets one: by logging in. */
  const userTokenOf = async (app: TestApp, user: UserEntity): Promise<string> => {
    const reply = await login(app, user.username!);
    expect(reply.body.code).toBe(200);
    return reply.body.data.token;
  };

  const userRows = async (app: TestApp): Promise<number> => {
    const [row] = await service.dataSource.query('SELECT count(*) AS n FROM app_user WHERE app_id = $1', [app.app.id]);
    return Number(row.n);
  };

  const statusOf = async (user: UserEntity): Promise<number> => {
    const [row] = await service.dataSource.query('SELECT status FROM app_user WHERE id = $1', [String(user.id)]);
    return Number(row.status);
  };

  const revokedSessionsOf = async (user: UserEntity): Promise<{ total: number; revoked: number }> => {
    const [row] = await service.dataSource.query(
      'SELECT count(*) AS total, count(revoked_at) AS revoked FROM session WHERE user_id = $1',
      [String(user.id)],
    );
    return { total: Number(row.total), revoked: Number(row.revoked) };
  };

  describe('POST /user/register/v2', () => {
    it('registers a user with an admin token and answers its id and normalized identifiers', async () => {
      const reply = await register({ username: 'Reg_Alice', password: PASSWORD, mobile: '+86 138 0013 8001', email: 'Reg.Alice@Example.COM' });

      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ code: 200, message: null });
      const data = reply.body.data;
      expect(Object.keys(data).sort()).toEqual(['email', 'mobile', 'user_id', 'username']);
      expect(data).toMatchObject({ username: 'Reg_Alice', mobile: '+8613800138001', email: 'reg.alice@example.com' });
      expect(typeof data.user_id).toBe('number');
      expect(Number.isSafeInteger(data.user_id)).toBe(true);
      expect(data.user_id).toBeGreaterThanOrEqual(2 ** 40);
      expect(data.user_id).toBeLessThan(2 ** 53);
    });

    it('registers a user who can then log in with that password', async () => {
      const reply = await register({ username: 'reg_then_login', password: PASSWORD });
      const loggedIn = await login(tenant, 'reg_then_login');
      expect(loggedIn.body.code).toBe(200);
      expect(loggedIn.body.data.user_id).toBe(reply.body.data.user_id);
    });

    it('gives registrations random ids, far from one another, not a sequence', async () => {
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) ids.push((await register({ username: `seq_${i}`, password: PASSWORD })).body.data.user_id);

      expect(new Set(ids).size).toBe(5);
      for (const a of ids) {
        for (const b of ids) if (a !== b) expect(Math.abs(a - b)).toBeGreaterThan(1000);
      }
    });

    it('accepts a 64-character username and CJK ideographs', async () => {
      expect((await register({ username: 'a'.repeat(64), password: PASSWORD })).body.code).toBe(200);
      expect((await register({ username: '张伟_01', password: PASSWORD })).body.data.username).toBe('张伟_01');
    });

    describe('who may register', () => {
      it('refuses a caller without a token when the app does not allow open registration (10010)', async () => {
        const reply = await service.post('/user/register/v2', { appId: tenant.app.id, body: { username: 'no_token', password: PASSWORD } });
        expectError(reply, 403, 10010, /open registration/);
      });

      it('lets anyone register without a token when the app allows open registration', async () => {
        const open = await service.createApp({ openRegistration: true });
        const reply = await service.post('/user/register/v2', { appId: open.app.id, body: { username: 'walk_in', password: PASSWORD } });
        expect(reply.status).toBe(200);
        expect(reply.body.data.username).toBe('walk_in');
        expect((await login(open, 'walk_in')).body.code).toBe(200);
      });

      it('refuses an unknown admin token (10008)', async () => {
        const reply = await adminCall('POST', '/user/register/v2', { username: 'bad_admin', password: PASSWORD }, tenant, { token: 'adm_not-a-real-token' });
        expectError(reply, 401, 10008);
      });

      it('refuses a revoked admin token (10008)', async () => {
        const revoked = await service.nest.get(AdminTokensService).create(tenant.app.id, 'to revoke');
        await service.nest.get(AdminTokensService).revoke(revoked.id);
        const reply = await adminCall('POST', '/user/register/v2', { username: 'revoked_admin', password: PASSWORD }, tenant, { token: revoked.token });
        expectError(reply, 401, 10008);
      });

      it("refuses another app's admin token (10008)", async () => {
        const other = await service.createApp();
        const reply = await adminCall('POST', '/user/register/v2', { username: 'cross_app', password: PASSWORD }, tenant, { token: other.adminToken });
        expectError(reply, 401, 10008, /another app/);
      });

      it("refuses a user's own access token (10010)", async () => {
        const someone = await service.createUser(tenant.app, { username: 'plain_user' });
        const token = await userTokenOf(tenant, someone);
        const reply = await adminCall('POST', '/user/register/v2', { username: 'by_a_user', password: PASSWORD }, tenant, { token });
        expectError(reply, 403, 10010, /admin access-token/);
      });
    });

    describe('identifiers already taken', () => {
      beforeAll(async () => {
        await service.createUser(tenant.app, { username: 'taken_bob', mobile: '+8613800138002', email: 'taken.bob@example.com' });
      });

      it.each([
        ['the same username in another case', { username: 'TAKEN_BOB' }, /username/],
        ['the same username in full-width letters (NFKC)', { username: 'ｔａｋｅｎ＿ｂｏｂ' }, /username/],
        ['the same mobile written differently', { username: 'fresh_1', mobile: '+86 138-0013-8002' }, /mobile/],
        ['the same email in another case', { username: 'fresh_2', email: 'Taken.Bob@EXAMPLE.com' }, /email/],
      ])('answers %s with 409 / 10004 naming the field', async (_label, identifiers, field) => {
        const before = await userRows(tenant);
        const reply = await register({ password: PASSWORD, ...identifiers });
        expectError(reply, 409, 10004, field);
        expect(reply.body.message).toMatch(/already taken/);
        expect(await userRows(tenant)).toBe(before);
      });
    });

    describe('username rules', () => {
      it.each([
        ['all digits', '1234567890'],
        ['an @', 'bob@example.com'],
        ['a space', 'bob smith'],
        ['a hyphen', 'bob-smith'],
        ['a Cyrillic look-alike letter', '\u0430lice'],
        ['the reserved prefix "maxim"', 'maxim_fan'],
        ['the reserved prefix "mta" in upper case', 'MTA_x'],
        ['65 characters', 'a'.repeat(65)],
      ])('refuses a username with %s (10002 about the username)', async (_label, username) => {
        const before = await userRows(tenant);
        const reply = await register({ username, password: PASSWORD });
        expectError(reply, 400, 10002, /username/);
        expect(await userRows(tenant)).toBe(before);
      });
    });

    describe('password minimum', () => {
      it("refuses a password shorter than the app's default minimum of 8", async () => {
        expectError(await register({ username: 'short_pw', password: 'seven77' }), 400, 10002, /password must be at least 8 characters/);
      });

      it('accepts a password of exactly the minimum', async () => {
        expect((await register({ username: 'eight_pw', password: 'eight888' })).body.code).toBe(200);
      });

      it('accepts a 3-character password in an app whose minimum is 3, and that password logs in', async () => {
        const lenient = await service.createApp({ passwordMinLength: 3 });
        const reply = await register({ username: 'abc_user', password: 'abc' }, lenient);
        expect(reply.body.code).toBe(200);
        expect((await login(lenient, 'abc_user', 'abc')).body.code).toBe(200);
        expectError(await register({ username: 'ab_user', password: 'ab' }, lenient), 400, 10002, /at least 3/);
      });
    });

    describe('field types', () => {
      it.each([
        ['a missing username', { password: PASSWORD }, /username is required/],
        ['a null username', { username: null, password: PASSWORD }, /username is required/],
        ['a numeric username', { username: 12345, password: PASSWORD }, /username must be a string/],
        ['a missing password', { username: 'typed_1' }, /password is required/],
        ['a numeric password', { username: 'typed_2', password: 12345678 }, /password must be a string/],
        ['a numeric mobile', { username: 'typed_3', password: PASSWORD, mobile: 8613800138003 }, /mobile must be a string/],
        ['an email that is an object', { username: 'typed_4', password: PASSWORD, email: { address: 'x@example.com' } }, /email must be a string/],
        ['an invalid mobile', { username: 'typed_5', password: PASSWORD, mobile: '+12' }, /mobile/],
        ['an invalid email', { username: 'typed_6', password: PASSWORD, email: 'not-an-email' }, /email/],
      ])('answers %s with 400 / 10002 naming the field', async (_label, body, message) => {
        expectError(await register(body), 400, 10002, message);
      });
    });

    it('writes no row for any refused registration', async () => {
      const before = await userRows(tenant);
      const refused = await Promise.all([
        service.post('/user/register/v2', { appId: tenant.app.id, body: { username: 'norow_1', password: PASSWORD } }),
        register({ username: 'norow_2', password: 'short' }),
        register({ username: '42424242', password: PASSWORD }),
        register({ username: 'norow_3', password: PASSWORD, email: 'taken.bob@example.com' }),
        register({ username: 'norow_4', password: PASSWORD, mobile: 'nope' }),
      ]);
      for (const reply of refused) expect(reply.body.code).not.toBe(200);
      expect(await userRows(tenant)).toBe(before);
    });
  });

  describe('POST /user/register/batch', () => {
    const batch = (list: unknown, app: TestApp = tenant, options: CallOptions = {}) =>
      adminCall('POST', '/user/register/batch', list === undefined ? {} : { list }, app, options);

    it('registers each item on its own and answers one result per item, in order', async () => {
      await service.createUser(tenant.app, { username: 'batch_taken' });
      const reply = await batch([
        { username: 'batch_ok_1', password: PASSWORD },
        { username: '98765', password: PASSWORD },
        { username: 'batch_short', password: 'short' },
        { username: 'Batch_Taken', password: PASSWORD },
        { username: 'batch_ok_2', password: PASSWORD },
      ]);

      expect(reply.status).toBe(200);
      expect(reply.body.code).toBe(200);
      const results = reply.body.data;
      expect(results).toHaveLength(5);
      for (const result of results) expect(Object.keys(result).sort()).toEqual(['reason', 'success', 'user_id', 'username']);
      expect(results[0]).toEqual({ user_id: expect.any(Number), username: 'batch_ok_1', success: true, reason: null });
      expect(results[1]).toEqual({ user_id: null, username: '98765', success: false, reason: expect.stringMatching(/all digits/) });
      expect(results[2]).toEqual({ user_id: null, username: 'batch_short', success: false, reason: expect.stringMatching(/at least 8/) });
      expect(results[3]).toEqual({ user_id: null, username: 'Batch_Taken', success: false, reason: expect.stringMatching(/username is already taken/) });
      expect(results[4]).toEqual({ user_id: expect.any(Number), username: 'batch_ok_2', success: true, reason: null });
    });

    it('creates the valid items, which can log in, and none of the refused ones', async () => {
      await batch([
        { username: 'batch_ok_3', password: PASSWORD },
        { username: 'batch-bad', password: PASSWORD },
        { username: 'batch_short_2', password: 'short' },
      ]);
      const rows = await service.dataSource.query('SELECT username FROM app_user WHERE app_id = $1', [tenant.app.id]);
      const names = rows.map((row: { username: string }) => row.username);
      expect(names).toContain('batch_ok_3');
      expect(names).not.toContain('batch-bad');
      expect(names).not.toContain('batch_short_2');
      expect((await login(tenant, 'batch_ok_3')).body.code).toBe(200);
    });

    it('lets only one of two items with the same username (in different cases) succeed', async () => {
      const reply = await batch([
        { username: 'twin', password: PASSWORD },
        { username: 'TWIN', password: PASSWORD },
      ]);
      const results = reply.body.data as Array<{ success: boolean; reason: string | null }>;
      expect(results.filter((result) => result.success)).toHaveLength(1);
      expect(results.find((result) => !result.success)?.reason).toMatch(/username is already taken/);
    });

    it('registers a full batch of 100 items', async () => {
      const full = await service.createApp();
      const list = Array.from({ length: 100 }, (_, i) => ({ username: `full_${i}`, password: PASSWORD }));
      const reply = await batch(list, full);
      expect(reply.body.code).toBe(200);
      expect((reply.body.data as Array<{ success: boolean }>).every((result) => result.success)).toBe(true);
      expect(await userRows(full)).toBe(100);
    });

    it('refuses a list of more than 100 items (10002) and creates none of them', async () => {
      const before = await userRows(tenant);
      const list = Array.from({ length: 101 }, (_, i) => ({ username: `over_${i}`, password: PASSWORD }));
      expectError(await batch(list), 400, 10002, /list/);
      expect(await userRows(tenant)).toBe(before);
    });

    it.each([
      ['an empty list', []],
      ['a missing list', undefined],
      ['a list that is not an array', { username: 'x', password: PASSWORD }],
    ])('refuses %s (10002 naming list)', async (_label, list) => {
      expectError(await batch(list), 400, 10002, /list/);
    });

    it('refuses the whole batch when an item has a field of the wrong type, naming the item', async () => {
      const before = await userRows(tenant);
      const reply = await batch([
        { username: 'typed_ok', password: PASSWORD },
        { username: 7, password: PASSWORD },
      ]);
      expectError(reply, 400, 10002, /list\.1\.username must be a string/);
      expect(await userRows(tenant)).toBe(before);
    });

    it('needs an access-token (10003)', async () => {
      const reply = await service.post('/user/register/batch', { appId: tenant.app.id, body: { list: [{ username: 'no_tok', password: PASSWORD }] } });
      expectError(reply, 401, 10003);
    });
  });

  describe('GET /user/list', () => {
    let listed: TestApp;
    let users: UserEntity[];

    beforeAll(async () => {
      listed = await service.createApp();
      users = [];
      for (const name of ['first', 'second', 'third', 'fourth', 'fifth']) users.push(await service.createUser(listed.app, { username: name }));
      const stranger = await service.createApp();
      await service.createUser(stranger.app, { username: 'stranger' });
    });

    const list = (query: string) => adminCall('GET', `/user/list${query}`, undefined, listed);

    it('lists the users oldest first, as {user_id, username, status}', async () => {
      const reply = await list('');
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ code: 200, message: null });
      expect(reply.body.data).toEqual(users.map((user) => ({ user_id: user.id, username: user.username, status: 0 })));
    });

    it('pages with page_num and page_size', async () => {
      const names = async (query: string) => ((await list(query)).body.data as Array<{ username: string }>).map((item) => item.username);
      expect(await names('?page_num=1&page_size=2')).toEqual(['first', 'second']);
      expect(await names('?page_num=2&page_size=2')).toEqual(['third', 'fourth']);
      expect(await names('?page_num=3&page_size=2')).toEqual(['fifth']);
      expect(await names('?page_num=4&page_size=2')).toEqual([]);
      expect(await names('?page_size=100')).toHaveLength(5);
    });

    it("lists only this app's users", async () => {
      const names = ((await list('?page_size=100')).body.data as Array<{ username: string }>).map((item) => item.username);
      expect(names).not.toContain('stranger');
      expect(names).toHaveLength(5);
    });

    it.each([
      ['page_size=0', /page_size/],
      ['page_size=101', /page_size/],
      ['page_size=abc', /page_size/],
      ['page_num=0', /page_num/],
      ['page_num=1.5', /page_num/],
    ])('refuses %s (10002 naming the parameter)', async (query, message) => {
      expectError(await list(`?${query}`), 400, 10002, message);
    });

    it.each([['99999999999999999999'], ['1e300']])('refuses page_num=%s, too large to page to, with 10002 naming it, never a 500', async (pageNum) => {
      expectError(await list(`?page_num=${pageNum}`), 400, 10002, /page_num/);
    });
  });

  describe('PUT /user/disable and /user/enable', () => {
    let bans: TestApp;

    beforeAll(async () => {
      bans = await service.createApp();
    });

    const disable = (list: unknown, app: TestApp = bans) => adminCall('PUT', '/user/disable', { list }, app);
    const enable = (list: unknown, app: TestApp = bans) => adminCall('PUT', '/user/enable', { list }, app);

    it('bans a user: the right password is then told 10102, a wrong one only 10101', async () => {
      const user = await service.createUser(bans.app, { username: 'to_ban' });
      const reply = await disable([user.id]);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ code: 200, message: null, data: true });

      expectError(await login(bans, 'to_ban'), 403, 10102, 'User is banned');
      expectError(await login(bans, 'to_ban', 'wrong password'), 401, 10101);
      expect(await statusOf(user)).toBe(1);
    });

    it('lifts a ban: the user logs in again and is listed as normal', async () => {
      const user = await service.createUser(bans.app, { username: 'to_pardon' });
      await disable([user.id]);
      const reply = await enable([user.id]);
      expect(reply.body).toEqual({ code: 200, message: null, data: true });

      expect((await login(bans, 'to_pardon')).body.code).toBe(200);
      const listed = (await adminCall('GET', '/user/list?page_size=100', undefined, bans)).body.data as Array<{ user_id: number; status: number }>;
      expect(listed.find((item) => item.user_id === user.id)?.status).toBe(0);
    });

    it("revokes the banned user's sessions, and only theirs", async () => {
      const banned = await service.createUser(bans.app, { username: 'session_ban' });
      const bystander = await service.createUser(bans.app, { username: 'session_keep' });
      await userTokenOf(bans, banned);
      await userTokenOf(bans, banned);
      await userTokenOf(bans, bystander);

      await disable([banned.id]);

      expect(await revokedSessionsOf(banned)).toEqual({ total: 2, revoked: 2 });
      expect(await revokedSessionsOf(bystander)).toEqual({ total: 1, revoked: 0 });
    });

    it("turns the banned user's live access-token from a valid caller (10010 here) into a revoked one (10008)", async () => {
      const banned = await service.createUser(bans.app, { username: 'token_ban' });
      const token = await userTokenOf(bans, banned);
      const asThatUser = () => adminCall('GET', '/user/list', undefined, bans, { token });

      expectError(await asThatUser(), 403, 10010);
      await disable([banned.id]);
      expectError(await asThatUser(), 401, 10008, /revoked/);
    });

    it('does not bring revoked sessions back when the ban is lifted', async () => {
      const user = await service.createUser(bans.app, { username: 'session_stays_revoked' });
      await userTokenOf(bans, user);
      await disable([user.id]);
      await enable([user.id]);
      expect(await revokedSessionsOf(user)).toEqual({ total: 1, revoked: 1 });
    });

    it('accepts ids as decimal strings', async () => {
      const user = await service.createUser(bans.app, { username: 'string_id' });
      expect((await disable([String(user.id)])).body.data).toBe(true);
      expect(await statusOf(user)).toBe(1);
      expect((await enable([String(user.id)])).body.data).toBe(true);
      expect(await statusOf(user)).toBe(0);
    });

    it('refuses a list with an unknown id (10000) and bans none of the known ids in it', async () => {
      const user = await service.createUser(bans.app, { username: 'not_banned_1' });
      await userTokenOf(bans, user);
      const reply = await disable([user.id, 2 ** 41 + 12345]);
      expectError(reply, 404, 10000, /does not exist/);

      expect(await statusOf(user)).toBe(0);
      expect(await revokedSessionsOf(user)).toEqual({ total: 1, revoked: 0 });
      expect((await login(bans, 'not_banned_1')).body.code).toBe(200);
    });

    it("refuses a list with another app's user (10000) and changes neither user", async () => {
      const mine = await service.createUser(bans.app, { username: 'not_banned_2' });
      const other = await service.createApp();
      const theirs = await service.createUser(other.app, { username: 'theirs' });
      expectError(await disable([mine.id, theirs.id]), 404, 10000);

      expect(await statusOf(mine)).toBe(0);
      expect(await statusOf(theirs)).toBe(0);
      expect((await login(other, 'theirs')).body.code).toBe(200);
    });

    it('refuses to lift bans for a list with an unknown id (10000) and keeps the known ones banned', async () => {
      const user = await service.createUser(bans.app, { username: 'stays_banned' });
      await disable([user.id]);
      expectError(await enable([user.id, 2 ** 41 + 54321]), 404, 10000);
      expect(await statusOf(user)).toBe(1);
      expectError(await login(bans, 'stays_banned'), 403, 10102);
    });

    it.each([
      ['a fractional id', [1.5]],
      ['a negative id', [-1]],
      ['an id of 2^53', [2 ** 53]],
      ['a non-numeric string', ['12ab']],
      ['a null id', [null]],
      ['an object', [{ id: 1 }]],
    ])('refuses %s (10002 naming list)', async (_label, list) => {
      expectError(await disable(list), 400, 10002, /list/);
      expectError(await enable(list), 400, 10002, /list/);
    });

    it.each([
      ['an empty list', []],
      ['a list that is a number', 5],
      ['a missing list', undefined],
    ])('refuses %s (10002 naming list)', async (_label, list) => {
      expectError(await disable(list), 400, 10002, /list/);
    });
  });

  describe('the admin routes', () => {
    it('take a freshly issued user access-token as a valid, non-admin caller (10010), not as a revoked one (10008)', async () => {
      const user = await service.createUser(tenant.app, { username: 'fresh_token' });
      const token = await userTokenOf(tenant, user);
      const reply = await service.call('GET', '/user/list', { appId: tenant.app.id, token });
      expect(reply.body.message).not.toMatch(/revoked/);
      expectError(reply, 403, 10010);
    });

    const routes: Array<[string, string, unknown]> = [
      ['POST', '/user/register/batch', { list: [{ username: 'guarded', password: PASSWORD }] }],
      ['GET', '/user/list', undefined],
      ['PUT', '/user/disable', { list: [2 ** 41] }],
      ['PUT', '/user/enable', { list: [2 ** 41] }],
    ];

    it.each(routes)('%s %s without an access-token answers 401 / 10003', async (method, path, body) => {
      expectError(await service.call(method, path, { appId: tenant.app.id, body }), 401, 10003);
    });

    it.each(routes)('%s %s with a garbage access-token answers 401 / 10008', async (method, path, body) => {
      expectError(await service.call(method, path, { appId: tenant.app.id, token: 'garbage', body }), 401, 10008);
    });

    it.each(routes)('%s %s with a user access-token answers 403 / 10010', async (method, path, body) => {
      const user = await service.createUser(tenant.app, { username: `guard_${method}_${path.replace(/\W/g, '_')}` });
      const token = await userTokenOf(tenant, user);
      expectError(await service.call(method, path, { appId: tenant.app.id, token, body }), 403, 10010);
    });
  });
});
