/**
 * Who is calling: every combination of token kind and impersonation header, allowed and
 * refused, as docs/authorization.md lists them. Admin route: GET /user/list. User route:
 * GET /user/device/list. Login route: POST /token/id.
 */
import { sign } from 'jsonwebtoken';
import { TestService, decodeJwt, expectError, type TestApp } from '../support/test-service';
import { SigningKeysService } from '../../apps/auth/src/signing-keys/signing-keys.service';
import { AdminTokensService } from '../../apps/auth/src/admin-tokens/admin-tokens.service';
import type { UserEntity } from '../../apps/auth/src/users/user.entity';

const PASSWORD = 'correct horse battery';

describe('caller resolution and impersonation', () => {
  let service: TestService;
  let tenant: TestApp;
  let otherTenant: TestApp;
  let owner: UserEntity;
  let member: UserEntity;
  let fellow: UserEntity;
  let stranger: UserEntity;
  const tokens: Record<string, string> = {};
  const GROUP = '1700000000001';

  const auditCount = async () =>
    Number((await service.dataSource.query('SELECT count(*) AS n FROM impersonation_audit WHERE app_id = $1', [tenant.app.id]))[0].n);

  const loginToken = async (app: TestApp, user: UserEntity) => {
    const reply = await service.post('/token/id', { appId: app.app.id, body: { user_id: user.id, password: PASSWORD } });
    expect(reply.body.code).toBe(200);
    return reply.body.data.token as string;
  };

  const asCaller = (path: string, token: string | undefined, headers: Record<string, string> = {}, app: TestApp = tenant) =>
    service.call('GET', path, { appId: app.app.id, token, headers });

  beforeAll(async () => {
    service = await TestService.start();
    tenant = await service.createApp();
    otherTenant = await service.createApp();
    owner = await service.createUser(tenant.app, { username: 'group_owner' });
    member = await service.createUser(tenant.app, { username: 'group_member' });
    fellow = await service.createUser(tenant.app, { username: 'fellow_member' });
    stranger = await service.createUser(tenant.app, { username: 'stranger' });
    const synced = await service.call('PUT', '/group/sync', {
      appId: tenant.app.id,
      token: tenant.adminToken,
      body: {
        group_id: GROUP,
        members: [
          { user_id: owner.id, role: 'owner' },
          { user_id: member.id, role: 'member' },
          { user_id: fellow.id, role: 'member' },
        ],
      },
    });
    expect(synced.body).toEqual({ code: 200, message: null, data: true });
    for (const [name, user] of Object.entries({ owner, member, fellow, stranger })) tokens[name] = await loginToken(tenant, user);
  });
  afterAll(() => service.close());

  describe('without impersonation headers', () => {
    it('lets an admin token of the app call an admin route', async () => {
      expect((await asCaller('/user/list', tenant.adminToken)).body.code).toBe(200);
    });

    it('refuses a missing token on an admin route with 10003 and on a user route with 10003', async () => {
      expectError(await asCaller('/user/list', undefined), 401, 10003);
      expectError(await asCaller('/user/device/list', undefined), 401, 10003);
    });

    it("refuses another app's admin token with 10008", async () => {
      expectError(await asCaller('/user/list', otherTenant.adminToken), 401, 10008, /another app/);
    });

    it('refuses a revoked admin token with 10008', async () => {
      const issued = await service.nest.get(AdminTokensService).create(tenant.app.id, 'short-lived');
      await service.nest.get(AdminTokensService).revoke(issued.id);
      expectError(await asCaller('/user/list', issued.token), 401, 10008, /unknown or revoked/);
    });

    it('lets a user token act as its user on a user route', async () => {
      const reply = await asCaller('/user/device/list', tokens.member);
      expect(reply.body.code).toBe(200);
    });

    it('refuses a user token on an admin route with 10010', async () => {
      expectError(await asCaller('/user/list', tokens.member), 403, 10010);
    });

    it('refuses an admin token without user_id on a user route with 10002', async () => {
      expectError(await asCaller('/user/device/list', tenant.adminToken), 400, 10002, /user_id header/);
    });

    it.each([
      ['malformed', () => 'not.a.jwt', /malformed/],
      ['signed by an unknown key', () => sign({ sub: '1' }, 'secret', { algorithm: 'HS256', keyid: 'nope' }), /unknown key/],
      ['issued for another app', (_app: TestApp, userId: number) => forged(otherTenant, userId, 600), /another app/],
      // Expired and wrong in another way: the other refusal, never the re-login signal 402.
      ['expired, of no session of ours', (app: TestApp, userId: number) => forged(app, userId, -60), /revoked/],
      ['expired and issued for another app', (_app: TestApp, userId: number) => forged(otherTenant, userId, -60), /another app/],
    ] as const)('refuses a user token that is %s with 10008 saying so', async (_label, make, message) => {
      expectError(await asCaller('/user/device/list', make(tenant, member.id)), 401, 10008, message);
    });

    it('refuses a token whose session was revoked with 10008', async () => {
      const token = await loginToken(tenant, stranger);
      await service.dataSource.query('UPDATE session SET revoked_at = now() WHERE jti = $1', [decodeJwt(token).claims.jti]);
      expectError(await asCaller('/user/device/list', token), 401, 10008, /revoked/);
    });

    it('answers 402 (log in again) for a token that has only expired, on user and admin routes alike', async () => {
      const { jti } = decodeJwt(await loginToken(tenant, fellow)).claims;
      const expired = forged(tenant, fellow.id, -60, jti as string);
      expectError(await asCaller('/user/device/list', expired), 401, 402, 'access-token has expired');
      expectError(await asCaller('/user/list', expired), 401, 402);
    });

    it('refuses an expired token whose session was revoked with 10008, not 402', async () => {
      const { jti } = decodeJwt(await loginToken(tenant, fellow)).claims;
      await service.dataSource.query('UPDATE session SET revoked_at = now() WHERE jti = $1', [jti]);
      expectError(await asCaller('/user/device/list', forged(tenant, fellow.id, -60, jti as string)), 401, 10008, /revoked/);
    });
  });

  describe('group_id', () => {
    it('lets an admin act as an admin of an existing group, and audits it once', async () => {
      const before = await auditCount();
      expect((await asCaller('/user/list', tenant.adminToken, { group_id: GROUP })).body.code).toBe(200);
      expect(await auditCount()).toBe(before + 1);
      const [row] = await service.dataSource.query(
        'SELECT caller_kind, acting_group_id, acting_user_id, method, path FROM impersonation_audit WHERE app_id = $1 ORDER BY id DESC LIMIT 1',
        [tenant.app.id],
      );
      expect(row).toEqual({ caller_kind: 'admin', acting_group_id: GROUP, acting_user_id: null, method: 'GET', path: '/user/list' });
    });

    it('refuses a group that does not exist in the app with 20001', async () => {
      expectError(await asCaller('/user/list', tenant.adminToken, { group_id: '42' }), 404, 20001);
      expectError(await asCaller('/user/list', otherTenant.adminToken, { group_id: GROUP }, otherTenant), 404, 20001);
    });

    it('refuses group_id with a user token or none with 10010', async () => {
      expectError(await asCaller('/user/device/list', tokens.owner, { group_id: GROUP }), 403, 10010);
      expectError(await asCaller('/user/list', undefined, { group_id: GROUP }), 403, 10010);
    });
  });

  describe('user_id', () => {
    it('lets an admin act as a user of the app, and audits it once', async () => {
      const before = await auditCount();
      expect((await asCaller('/user/device/list', tenant.adminToken, { user_id: String(member.id) })).body.code).toBe(200);
      expect(await auditCount()).toBe(before + 1);
    });

    it('refuses a user_id that is not a user of the app with 10010', async () => {
      const outsider = await service.createUser(otherTenant.app, { username: 'outsider' });
      expectError(await asCaller('/user/device/list', tenant.adminToken, { user_id: String(outsider.id) }), 403, 10010, /not a user of this app/);
      expectError(await asCaller('/user/device/list', tenant.adminToken, { user_id: '123456789' }), 403, 10010);
    });

    it("lets a group owner act for a member of the group", async () => {
      const before = await auditCount();
      expect((await asCaller('/user/device/list', tokens.owner, { user_id: String(member.id) })).body.code).toBe(200);
      expect(await auditCount()).toBe(before + 1);
    });

    it('refuses a plain member acting for another member with 20012', async () => {
      expectError(await asCaller('/user/device/list', tokens.member, { user_id: String(fellow.id) }), 403, 20012);
    });

    it('refuses a user acting for someone who shares no group with 20002', async () => {
      expectError(await asCaller('/user/device/list', tokens.stranger, { user_id: String(member.id) }), 403, 20002);
      expectError(await asCaller('/user/device/list', tokens.owner, { user_id: String(stranger.id) }), 403, 20002);
    });

    it('treats a user naming itself as no impersonation', async () => {
      const before = await auditCount();
      expect((await asCaller('/user/device/list', tokens.member, { user_id: String(member.id) })).body.code).toBe(200);
      expect(await auditCount()).toBe(before);
    });

    it('refuses user_id without a token with 10010', async () => {
      expectError(await asCaller('/user/device/list', undefined, { user_id: String(member.id) }), 403, 10010);
    });

    it('refuses group_id and user_id together with 10002', async () => {
      expectError(await asCaller('/user/list', tenant.adminToken, { group_id: GROUP, user_id: String(member.id) }), 400, 10002, /together/);
    });
  });

  describe('on the login routes', () => {
    const loginAs = (user: UserEntity, headers: Record<string, string>) =>
      service.post('/token/id', { appId: tenant.app.id, headers, body: { user_id: user.id, password: PASSWORD } });

    it('ignores a stale token without impersonation headers', async () => {
      expect((await loginAs(member, { 'access-token': 'stale-garbage' })).body.code).toBe(200);
    });

    it('refuses a stale token when an impersonation header gives it a meaning', async () => {
      expectError(await loginAs(member, { 'access-token': 'stale-garbage', user_id: String(member.id) }), 401, 10008);
    });

    it('names the real caller in an act claim when an admin logs a user in on its behalf, auditing it once', async () => {
      const before = await auditCount();
      const reply = await loginAs(member, { 'access-token': tenant.adminToken, user_id: String(member.id) });
      expect(reply.body.code).toBe(200);
      const { claims } = decodeJwt(reply.body.data.token);
      expect(claims.sub).toBe(String(member.id));
      expect(claims.act).toEqual({ sub: expect.stringMatching(/^admin:[0-9a-f-]{36}$/) });
      expect(await auditCount()).toBe(before + 1);
    });

    describe('when the user_id header names another user than the body', () => {
      const sessionsOf = async (user: UserEntity) =>
        Number((await service.dataSource.query('SELECT count(*) AS n FROM session WHERE user_id = $1', [user.id]))[0].n);

      it.each([
        ['an admin', () => tenant.adminToken],
        ['the group owner', () => tokens.owner],
      ])('refuses %s logging in someone else under user_id with 10002, issuing nothing', async (_label, callerToken) => {
        const before = await sessionsOf(fellow);
        const reply = await loginAs(fellow, { 'access-token': callerToken(), user_id: String(member.id) });
        expectError(reply, 400, 10002, /user_id header must name the user the body logs in/);
        expect(await sessionsOf(fellow)).toBe(before);
      });

      it('refuses it on the name routes too, once the password is proven', async () => {
        const headers = { 'access-token': tenant.adminToken, user_id: String(member.id) };
        const byName = await service.post('/token/user', { appId: tenant.app.id, headers, body: { name: fellow.username, password: PASSWORD } });
        expectError(byName, 400, 10002, /user_id header/);
        const byLogin = await service.post('/token/login', { appId: tenant.app.id, headers, body: { login_name: fellow.username, password: PASSWORD } });
        expectError(byLogin, 400, 10002, /user_id header/);
        // A wrong password is what it always is.
        const wrong = await service.post('/token/user', { appId: tenant.app.id, headers, body: { name: fellow.username, password: 'not the password' } });
        expectError(wrong, 401, 10101);
      });

      it('keeps the audit row of the refused call, naming the user the header named', async () => {
        const before = await auditCount();
        expectError(await loginAs(fellow, { 'access-token': tenant.adminToken, user_id: String(member.id) }), 400, 10002);
        expect(await auditCount()).toBe(before + 1);
        const [row] = await service.dataSource.query('SELECT acting_user_id, path FROM impersonation_audit WHERE app_id = $1 ORDER BY id DESC LIMIT 1', [tenant.app.id]);
        expect(row).toEqual({ acting_user_id: String(member.id), path: '/token/id' });
      });
    });

    it('issues ordinary tokens without an act claim', async () => {
      const reply = await loginAs(member, {});
      expect(decodeJwt(reply.body.data.token).claims.act).toBeUndefined();
    });
  });

  /** A token signed by the service's real key, with chosen app, lifetime and session (by default none). */
  function forged(app: TestApp, userId: number, secondsLeft: number, jti = '00000000-0000-4000-8000-000000000000'): string {
    const key = service.nest.get(SigningKeysService).activeKey();
    const now = Math.floor(Date.now() / 1000);
    return sign(
      { iss: 'im-auth', sub: String(userId), app_id: app.app.id, jti, iat: now - 3600, exp: now + secondsLeft },
      key.privateKey,
      { algorithm: 'RS256', keyid: key.kid },
    );
  }
});
