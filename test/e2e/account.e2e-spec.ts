/**
 * The user's own endpoints (/user/change_password, change_password_admin, delete, device/list,
 * device/remove, kick, impersonations) over real HTTP on real PostgreSQL: as the user with their
 * own token, as an admin with the user_id header, as a group member acting for someone of a lower
 * role (owner > admin > member), and every refusal.
 */
import { TestService, decodeJwt, expectError, type Reply, type TestApp } from '../support/test-service';
import { UserEntity } from '../../apps/auth/src/users/user.entity';
import { DeviceEntity } from '../../apps/auth/src/devices/device.entity';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'battery staple horse';
const IPHONE = 'IMClient/3.2 (iPhone; iOS 17.4; Scale/3.00)';
const ANDROID = 'okhttp/4.12.0 (Linux; Android 14; Pixel 8)';
const GROUP = '1700000000042';

interface Login {
  token: string;
  jti: string;
  push_token: string | null;
}

interface CallAs {
  token?: string;
  /** The user_id header. */
  actingFor?: UserEntity;
  body?: unknown;
}

describe('the user account endpoints', () => {
  let service: TestService;
  let tenant: TestApp;
  let owner: UserEntity;
  let groupAdmin: UserEntity;
  let coAdmin: UserEntity;
  let member: UserEntity;
  let fellow: UserEntity;
  let stranger: UserEntity;
  const tokens: Record<string, string> = {};
  let nameCounter = 0;

  beforeAll(async () => {
    service = await TestService.start();
    tenant = await service.createApp();
    owner = await newUser('owner');
    groupAdmin = await newUser('group_admin');
    coAdmin = await newUser('co_admin');
    member = await newUser('member');
    fellow = await newUser('fellow');
    stranger = await newUser('stranger');
    await syncGroup([
      [owner, 'owner'],
      [groupAdmin, 'admin'],
      [coAdmin, 'admin'],
      [member, 'member'],
      [fellow, 'member'],
    ]);
    for (const [name, user] of Object.entries({ owner, groupAdmin, coAdmin, member, fellow, stranger })) tokens[name] = (await login(user)).token;
  });
  afterAll(() => service.close());

  /** A fresh user per test that changes one, so tests do not depend on each other. */
  function newUser(prefix = 'user'): Promise<UserEntity> {
    nameCounter += 1;
    return service.createUser(tenant.app, { username: `${prefix}_${nameCounter}`, password: PASSWORD });
  }

  async function syncGroup(members: Array<[UserEntity, 'owner' | 'admin' | 'member']>, groupId = GROUP): Promise<void> {
    const reply = await service.call('PUT', '/group/sync', {
      appId: tenant.app.id,
      token: tenant.adminToken,
      body: { group_id: groupId, members: members.map(([user, role]) => ({ user_id: user.id, role })) },
    });
    expect(reply.body).toEqual({ code: 200, message: null, data: true });
  }

  async function login(user: UserEntity, deviceGuid?: string, password = PASSWORD, userAgent = IPHONE): Promise<Login> {
    const reply = await tryLogin(user, deviceGuid, password, userAgent);
    expect(reply.body.code).toBe(200);
    const { token, push_token } = reply.body.data;
    return { token, push_token, jti: decodeJwt(token).claims.jti as string };
  }

  function tryLogin(user: UserEntity, deviceGuid?: string, password = PASSWORD, userAgent = IPHONE): Promise<Reply> {
    return service.post('/token/user', {
      appId: tenant.app.id,
      headers: { 'user-agent': userAgent },
      body: { name: user.username, password, ...(deviceGuid ? { device_guid: deviceGuid } : {}) },
    });
  }

  function call(method: string, path: string, { token, actingFor, body }: CallAs = {}): Promise<Reply> {
    const headers: Record<string, string> = actingFor ? { user_id: String(actingFor.id) } : {};
    return service.call(method, path, { appId: tenant.app.id, token, headers, body });
  }

  const asAdmin = (user: UserEntity, body?: unknown): CallAs => ({ token: tenant.adminToken, actingFor: user, body });

  function expectOk(reply: Reply, data: unknown = true): void {
    expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: { code: 200, message: null, data } });
  }

  const deviceList = (as: CallAs) => call('GET', '/user/device/list', as);

  async function expectAlive(token: string): Promise<void> {
    expect((await deviceList({ token })).body.code).toBe(200);
  }

  async function expectRevoked(token: string): Promise<void> {
    expectError(await deviceList({ token }), 401, 10008, /revoked/);
  }

  const auditCount = async (user: UserEntity) =>
    Number(
      (await service.dataSource.query('SELECT count(*) AS n FROM impersonation_audit WHERE app_id = $1 AND acting_user_id = $2', [tenant.app.id, user.id]))[0].n,
    );

  const revokedAmong = async (jtis: string[]) =>
    ((await service.dataSource.query('SELECT jti FROM revocation WHERE jti = ANY($1::uuid[])', [jtis])) as Array<{ jti: string }>).map((row) => row.jti).sort();

  const devicesOf = (user: UserEntity) => service.dataSource.getRepository(DeviceEntity).find({ where: { userId: user.id }, order: { deviceSn: 'ASC' } });

  describe('refusals on every endpoint', () => {
    const endpoints: Array<[string, string, unknown]> = [
      ['POST', '/user/change_password', { old_password: PASSWORD, new_password: NEW_PASSWORD }],
      ['POST', '/user/change_password_admin', { password: NEW_PASSWORD }],
      ['POST', '/user/delete', { password: PASSWORD }],
      ['GET', '/user/device/list', undefined],
      ['POST', '/user/device/remove?device_sn=1', undefined],
      ['POST', '/user/kick', undefined],
      ['GET', '/user/impersonations', undefined],
    ];

    it.each(endpoints)('%s %s without a token is 10003', async (method, path, body) => {
      expectError(await call(method, path, { body }), 401, 10003);
    });

    it.each(endpoints)('%s %s with a garbage token is 10008', async (method, path, body) => {
      expectError(await call(method, path, { token: 'not-a-token', body }), 401, 10008);
    });

    it.each(endpoints)('%s %s with an admin token but no user_id is 10002 asking for it', async (method, path, body) => {
      expectError(await call(method, path, { token: tenant.adminToken, body }), 400, 10002, /user_id header/);
    });

    it.each(endpoints)('%s %s by a plain member acting for another member is 20012', async (method, path, body) => {
      expectError(await call(method, path, { token: tokens.fellow, actingFor: member, body }), 403, 20012);
    });

    it.each(endpoints)("%s %s by a group admin acting for the group's owner is 20012", async (method, path, body) => {
      expectError(await call(method, path, { token: tokens.groupAdmin, actingFor: owner, body }), 403, 20012, /higher role/);
    });

    it.each(endpoints)('%s %s by a group admin acting for another admin of the group is 20012', async (method, path, body) => {
      expectError(await call(method, path, { token: tokens.groupAdmin, actingFor: coAdmin, body }), 403, 20012, /higher role/);
    });

    it.each(endpoints)('%s %s by a user sharing no group with the user is 20002', async (method, path, body) => {
      expectError(await call(method, path, { token: tokens.stranger, actingFor: member, body }), 403, 20002);
    });

    it.each(endpoints)('%s %s with a user_id that names no user of the app is 10010', async (method, path, body) => {
      const reply = await service.call(method, path, { appId: tenant.app.id, token: tenant.adminToken, headers: { user_id: '1234567890123' }, body });
      expectError(reply, 403, 10010, /not a user of this app/);
    });

    it('changed nothing for the users those calls named', async () => {
      // A kick without device_sn revokes every session: the owner's and the co-admin's would be gone.
      for (const name of ['owner', 'coAdmin', 'member', 'fellow', 'stranger']) await expectAlive(tokens[name]);
      for (const user of [owner, coAdmin, member]) expect((await tryLogin(user)).body.code).toBe(200);
      expect(await auditCount(owner)).toBe(0);
    });
  });

  describe('group roles: acting for someone needs a higher role in a group you share', () => {
    it('lets the owner act for an admin and a member, and an admin for a member', async () => {
      expect((await deviceList({ token: tokens.owner, actingFor: groupAdmin })).body.code).toBe(200);
      expect((await deviceList({ token: tokens.owner, actingFor: member })).body.code).toBe(200);
      expect((await deviceList({ token: tokens.groupAdmin, actingFor: member })).body.code).toBe(200);
    });

    it('refuses acting upwards or sideways: an admin for the owner or another admin, a member for anyone', async () => {
      expectError(await deviceList({ token: tokens.groupAdmin, actingFor: owner }), 403, 20012);
      expectError(await deviceList({ token: tokens.groupAdmin, actingFor: coAdmin }), 403, 20012);
      expectError(await deviceList({ token: tokens.member, actingFor: groupAdmin }), 403, 20012);
      expectError(await deviceList({ token: tokens.member, actingFor: fellow }), 403, 20012);
    });

    it('lets a user act for someone they outrank in any one of the groups they share', async () => {
      const upper = await newUser('upper');
      const lower = await newUser('lower');
      const upperToken = (await login(upper)).token;
      // In one group lower owns and upper is an admin; in another upper owns and lower is a member.
      await syncGroup([[lower, 'owner'], [upper, 'admin']], '1700000000090');
      expectError(await deviceList({ token: upperToken, actingFor: lower }), 403, 20012);
      await syncGroup([[upper, 'owner'], [lower, 'member']], '1700000000091');
      expect((await deviceList({ token: upperToken, actingFor: lower })).body.code).toBe(200);
    });

    it("stops a group admin from kicking the owner's devices: the owner stays signed in", async () => {
      const phone = await login(owner, 'owner-phone');
      expectError(await call('POST', '/user/kick', { token: tokens.groupAdmin, actingFor: owner }), 403, 20012);
      await expectAlive(phone.token);
      await expectAlive(tokens.owner);
    });
  });

  describe('POST /user/change_password', () => {
    const change = (token: string, body: unknown, actingFor?: UserEntity) => call('POST', '/user/change_password', { token, body, actingFor });

    it('changes the password, revokes the other sessions and keeps the calling one', async () => {
      const user = await newUser();
      const other = await login(user, 'phone');
      const stale = await login(user);
      const caller = await login(user, 'laptop');
      expectOk(await change(caller.token, { old_password: PASSWORD, new_password: NEW_PASSWORD }));

      await expectRevoked(other.token);
      await expectRevoked(stale.token);
      await expectAlive(caller.token);
      expect(await revokedAmong([other.jti, stale.jti, caller.jti])).toEqual([other.jti, stale.jti].sort());
      expectError(await tryLogin(user), 401, 10101);
      const fresh = await login(user, undefined, NEW_PASSWORD);
      await expectAlive(fresh.token);
      const stored = await service.dataSource.getRepository(UserEntity).findOneByOrFail({ id: user.id });
      expect(stored.passwordHash).toMatch(/^\$argon2id\$v=19\$/);
    });

    it('answers a wrong old password with 10101 and changes nothing', async () => {
      const user = await newUser();
      const other = await login(user);
      const caller = await login(user);
      expectError(await change(caller.token, { old_password: 'not the password', new_password: NEW_PASSWORD }), 401, 10101, /old_password/);
      await expectAlive(other.token);
      expect((await tryLogin(user)).body.code).toBe(200);
    });

    it("refuses a new password that breaks the app's policy with 10002", async () => {
      const user = await newUser();
      const caller = await login(user);
      expectError(await change(caller.token, { old_password: PASSWORD, new_password: 'short' }), 400, 10002, /new_password must be at least 8 characters/);
      const tooLong = 'p'.repeat(257);
      expectError(await change(caller.token, { old_password: PASSWORD, new_password: tooLong }), 400, 10002, /new_password must be at most 256 characters/);
      expectError(await change(caller.token, { old_password: tooLong, new_password: NEW_PASSWORD }), 400, 10002, /old_password must be at most 256 characters/);
      expect((await tryLogin(user)).body.code).toBe(200);
    });

    it.each([
      ['a missing old_password', { new_password: NEW_PASSWORD }, /old_password is required/],
      ['a missing new_password', { old_password: PASSWORD }, /new_password is required/],
      ['a numeric new_password', { old_password: PASSWORD, new_password: 12345678 }, /new_password must be a string/],
      ['an empty old_password', { old_password: '', new_password: NEW_PASSWORD }, /old_password should not be empty/],
      ['an empty body', undefined, /old_password is required/],
    ])('answers %s with 10002 naming the field', async (_label, body, message) => {
      expectError(await change(tokens.member, body), 400, 10002, message);
    });

    it('refuses an admin acting for the user with 10010, pointing to change_password_admin', async () => {
      const user = await newUser();
      const reply = await call('POST', '/user/change_password', asAdmin(user, { old_password: PASSWORD, new_password: NEW_PASSWORD }));
      expectError(reply, 403, 10010, /change_password_admin/);
      expect((await tryLogin(user)).body.code).toBe(200);
    });

    it('refuses a group owner acting for a member with 10010', async () => {
      expectError(await change(tokens.owner, { old_password: PASSWORD, new_password: NEW_PASSWORD }, member), 403, 10010, /change_password_admin/);
      expect((await tryLogin(member)).body.code).toBe(200);
    });
  });

  describe('POST /user/change_password_admin', () => {
    it('sets the password for an admin with user_id and revokes every session of the user', async () => {
      const user = await newUser();
      const sessions = [await login(user, 'phone'), await login(user)];
      expectOk(await call('POST', '/user/change_password_admin', asAdmin(user, { password: NEW_PASSWORD })));
      for (const session of sessions) await expectRevoked(session.token);
      expect(await revokedAmong(sessions.map((session) => session.jti))).toEqual(sessions.map((session) => session.jti).sort());
      expectError(await tryLogin(user), 401, 10101);
      await expectAlive((await login(user, undefined, NEW_PASSWORD)).token);
    });

    it("refuses the user's own token with 10010, pointing to change_password", async () => {
      const user = await newUser();
      const own = await login(user);
      expectError(await call('POST', '/user/change_password_admin', { token: own.token, body: { password: NEW_PASSWORD } }), 403, 10010, /\/user\/change_password\b/);
      await expectAlive(own.token);
    });

    it('refuses a group owner acting for a member with 10010', async () => {
      expectError(await call('POST', '/user/change_password_admin', { token: tokens.owner, actingFor: member, body: { password: NEW_PASSWORD } }), 403, 10010);
      expect((await tryLogin(member)).body.code).toBe(200);
    });

    it.each([
      ['a missing password', {}, /password is required/],
      ['a numeric password', { password: 12345678 }, /password must be a string/],
      ['a password under the minimum', { password: 'short' }, /password must be at least 8 characters/],
      ['a password over the maximum', { password: 'p'.repeat(257) }, /password must be at most 256 characters/],
    ])('answers %s with 10002', async (_label, body, message) => {
      expectError(await call('POST', '/user/change_password_admin', asAdmin(member, body)), 400, 10002, message);
    });
  });

  describe('POST /user/delete', () => {
    it('deletes the user who proves the password, revoking their sessions first', async () => {
      const user = await newUser();
      const sessions = [await login(user, 'phone'), await login(user, 'tablet'), await login(user)];
      await syncGroup([[owner, 'owner'], [user, 'member']], '1700000000077');
      expectOk(await call('POST', '/user/delete', { token: sessions[2].token, body: { password: PASSWORD } }));

      expectError(await tryLogin(user), 401, 10101);
      const jtis = sessions.map((session) => session.jti);
      expect(await revokedAmong(jtis)).toEqual([...jtis].sort());
      for (const session of sessions) expectError(await deviceList({ token: session.token }), 401, 10008);
      expect(await service.dataSource.getRepository(UserEntity).existsBy({ id: user.id })).toBe(false);
      expect(await devicesOf(user)).toHaveLength(0);
      const counts = await service.dataSource.query(
        `SELECT (SELECT count(*) FROM session WHERE user_id = $1) AS sessions, (SELECT count(*) FROM group_member WHERE user_id = $1) AS memberships`,
        [user.id],
      );
      expect(counts[0]).toEqual({ sessions: '0', memberships: '0' });
    });

    it('deletes the user for an admin with user_id, without a password', async () => {
      const user = await newUser();
      const sessions = [await login(user, 'phone'), await login(user)];
      expectOk(await call('POST', '/user/delete', asAdmin(user)));
      expectError(await tryLogin(user), 401, 10101);
      const jtis = sessions.map((session) => session.jti);
      expect(await revokedAmong(jtis)).toEqual([...jtis].sort());
      expectError(await call('GET', '/user/device/list', asAdmin(user)), 403, 10010, /not a user of this app/);
    });

    it('needs the password with the user token: 10002 when missing, 10101 when wrong', async () => {
      const user = await newUser();
      const own = await login(user);
      expectError(await call('POST', '/user/delete', { token: own.token }), 400, 10002, /password is required/);
      expectError(await call('POST', '/user/delete', { token: own.token, body: { password: 'not the password' } }), 401, 10101);
      expectError(await call('POST', '/user/delete', { token: own.token, body: { password: 42 } }), 400, 10002, /password must be a string/);
      await expectAlive(own.token);
      expect((await tryLogin(user)).body.code).toBe(200);
    });

    it('refuses a group owner acting for a member with 10010', async () => {
      expectError(await call('POST', '/user/delete', { token: tokens.owner, actingFor: member, body: { password: PASSWORD } }), 403, 10010);
      expect((await tryLogin(member)).body.code).toBe(200);
    });
  });

  describe('GET /user/device/list', () => {
    let user: UserEntity;
    let expected: unknown[];

    beforeAll(async () => {
      user = await newUser();
      await login(user, 'phone', PASSWORD, IPHONE);
      await login(user, 'android', PASSWORD, ANDROID);
      await syncGroup(
        [
          [owner, 'owner'],
          [groupAdmin, 'admin'],
          [member, 'member'],
          [fellow, 'member'],
          [user, 'member'],
        ],
      );
      expected = [
        { device_sn: 1, platform: 1, user_agent: IPHONE, user_id: user.id, push_binding: null },
        { device_sn: 2, platform: 2, user_agent: ANDROID, user_id: user.id, push_binding: null },
      ];
    });

    it("lists the user's devices by device_sn, in the platform's shape", async () => {
      const own = await login(user);
      expectOk(await deviceList({ token: own.token }), expected);
    });

    it('lists them for an admin with user_id', async () => {
      expectOk(await deviceList(asAdmin(user)), expected);
    });

    it('lists them for the group owner and a group admin acting for the member', async () => {
      expectOk(await deviceList({ token: tokens.owner, actingFor: user }), expected);
      expectOk(await deviceList({ token: tokens.groupAdmin, actingFor: user }), expected);
    });

    it('refuses a plain member acting for another member with 20012, and a stranger with 20002', async () => {
      expectError(await deviceList({ token: tokens.fellow, actingFor: user }), 403, 20012);
      expectError(await deviceList({ token: tokens.stranger, actingFor: user }), 403, 20002);
    });

    it('is empty for a user without devices', async () => {
      expectOk(await deviceList({ token: tokens.stranger }), []);
    });
  });

  describe('POST /user/device/remove', () => {
    const remove = (query: string, as: CallAs) => call('POST', `/user/device/remove${query}`, as);

    it("revokes the device's sessions and forgets it, leaving the other devices", async () => {
      const user = await newUser();
      const phone = await login(user, 'phone');
      const laptop = await login(user, 'laptop');
      const phoneAgain = await login(user, 'phone');
      expectOk(await remove('?device_sn=1', { token: laptop.token }));

      await expectRevoked(phone.token);
      await expectRevoked(phoneAgain.token);
      await expectAlive(laptop.token);
      expect(await revokedAmong([phone.jti, phoneAgain.jti, laptop.jti])).toEqual([phone.jti, phoneAgain.jti].sort());
      expectOk(await deviceList({ token: laptop.token }), [{ device_sn: 2, platform: 1, user_agent: IPHONE, user_id: user.id, push_binding: null }]);
      const pushTokens = (await devicesOf(user)).map((device) => device.pushToken);
      expect(pushTokens).toEqual([laptop.push_token]);
    });

    it('removes a device for an admin with user_id and for the group owner', async () => {
      const user = await newUser();
      await syncGroup([[owner, 'owner'], [user, 'member']], '1700000000078');
      const phone = await login(user, 'phone');
      const tablet = await login(user, 'tablet');
      expectOk(await remove('?device_sn=1', asAdmin(user)));
      await expectRevoked(phone.token);
      expectOk(await remove('?device_sn=2', { token: tokens.owner, actingFor: user }));
      await expectRevoked(tablet.token);
      expect(await devicesOf(user)).toHaveLength(0);
    });

    it('gives a removed device a new device_sn and push token when it logs in again', async () => {
      const user = await newUser();
      const first = await login(user, 'phone');
      const own = await login(user);
      expectOk(await remove('?device_sn=1', { token: own.token }));
      const again = await login(user, 'phone');
      expect(again.push_token).not.toBe(first.push_token);
      expect((await devicesOf(user)).map((device) => device.deviceSn)).toEqual([1]);
    });

    it("answers a device_sn the user has no device with as 10002, also another user's device", async () => {
      const user = await newUser();
      const own = await login(user, 'phone');
      const other = await newUser();
      await login(other, 'phone');
      expectError(await remove('?device_sn=9', { token: own.token }), 400, 10002, /no device with device_sn 9/);
      const otherOwn = await login(other);
      expectError(await remove('?device_sn=2', { token: otherOwn.token }), 400, 10002, /no device with device_sn 2/);
      await expectAlive(own.token);
    });

    it.each([
      ['missing', '', /device_sn is required/],
      ['not a number', '?device_sn=abc', /device_sn/],
      ['zero', '?device_sn=0', /device_sn must not be less than 1/],
      ['negative', '?device_sn=-1', /device_sn must not be less than 1/],
      ['a fraction', '?device_sn=1.5', /device_sn must be an integer/],
      ['over int32', '?device_sn=2147483648', /device_sn must not be greater than 2147483647/],
    ])('answers a device_sn that is %s with 10002 naming it', async (_label, query, message) => {
      expectError(await remove(query, { token: tokens.member }), 400, 10002, message);
    });
  });

  describe('POST /user/kick', () => {
    const kick = (query: string, as: CallAs) => call('POST', `/user/kick${query}`, as);

    it("revokes one device's sessions and unbinds its push token, keeping the device and the other sessions", async () => {
      const user = await newUser();
      const phone = await login(user, 'phone');
      const laptop = await login(user, 'laptop', PASSWORD, ANDROID);
      const noDevice = await login(user);
      expectOk(await kick('?device_sn=1', { token: laptop.token }));

      await expectRevoked(phone.token);
      await expectAlive(laptop.token);
      await expectAlive(noDevice.token);
      const [phoneDevice, laptopDevice] = await devicesOf(user);
      expect(phoneDevice.pushToken).not.toBe(phone.push_token);
      expect(phoneDevice.pushToken).toMatch(/^psh_/);
      expect(laptopDevice.pushToken).toBe(laptop.push_token);

      const again = await login(user, 'phone');
      expect(again.push_token).not.toBe(phone.push_token);
      expect(again.push_token).toBe(phoneDevice.pushToken);
      expect(decodeJwt(again.token).claims.device_sn).toBe(1);
      expect((await devicesOf(user)).map((device) => device.deviceSn)).toEqual([1, 2]);
    });

    it('without device_sn, revokes every session of the user and unbinds every push token', async () => {
      const user = await newUser();
      const phone = await login(user, 'phone');
      const laptop = await login(user, 'laptop');
      const noDevice = await login(user);
      expectOk(await kick('', { token: noDevice.token }));

      for (const session of [phone, laptop, noDevice]) await expectRevoked(session.token);
      const devices = await devicesOf(user);
      expect(devices.map((device) => device.deviceSn)).toEqual([1, 2]);
      expect(devices[0].pushToken).not.toBe(phone.push_token);
      expect(devices[1].pushToken).not.toBe(laptop.push_token);
      expect(new Set(devices.map((device) => device.pushToken)).size).toBe(2);
      expect(await deviceList(asAdmin(user))).toMatchObject({ body: { code: 200, data: [{ device_sn: 1 }, { device_sn: 2 }] } });
    });

    it('kicks for an admin with user_id and for a group admin', async () => {
      const user = await newUser();
      await syncGroup([[groupAdmin, 'admin'], [user, 'member']], '1700000000079');
      const phone = await login(user, 'phone');
      const laptop = await login(user, 'laptop');
      expectOk(await kick('?device_sn=2', asAdmin(user)));
      await expectRevoked(laptop.token);
      await expectAlive(phone.token);
      expectOk(await kick('', { token: tokens.groupAdmin, actingFor: user }));
      await expectRevoked(phone.token);
    });

    it('answers an unknown or malformed device_sn with 10002, kicking nobody', async () => {
      const user = await newUser();
      const phone = await login(user, 'phone');
      expectError(await kick('?device_sn=5', { token: phone.token }), 400, 10002, /no device with device_sn 5/);
      expectError(await kick('?device_sn=abc', { token: phone.token }), 400, 10002, /device_sn/);
      expectError(await kick('?device_sn=0', { token: phone.token }), 400, 10002, /device_sn/);
      await expectAlive(phone.token);
    });
  });

  describe('the impersonation audit', () => {
    it('records exactly one row per call made for a user through user_id', async () => {
      const user = await newUser();
      await syncGroup([[owner, 'owner'], [user, 'member']], '1700000000080');
      await login(user, 'phone');
      const calls: Array<() => Promise<Reply>> = [
        () => deviceList(asAdmin(user)),
        () => deviceList({ token: tokens.owner, actingFor: user }),
        () => call('GET', '/user/impersonations', asAdmin(user)),
        () => call('POST', '/user/kick?device_sn=1', asAdmin(user)),
        () => call('POST', '/user/change_password_admin', asAdmin(user, { password: NEW_PASSWORD })),
        () => call('POST', '/user/device/remove?device_sn=1', { token: tokens.owner, actingFor: user }),
      ];
      for (const make of calls) {
        const before = await auditCount(user);
        expect((await make()).body.code).toBe(200);
        expect(await auditCount(user)).toBe(before + 1);
      }
      const before = await auditCount(user);
      expectOk(await call('POST', '/user/delete', asAdmin(user)));
      expect(await auditCount(user)).toBe(before + 1);
    });

    it('records nothing for a user acting as themself', async () => {
      const user = await newUser();
      const phone = await login(user, 'phone');
      const own = await login(user);
      const before = await auditCount(user);
      expect((await deviceList({ token: own.token })).body.code).toBe(200);
      expect((await call('GET', '/user/impersonations', { token: own.token })).body.code).toBe(200);
      expect((await call('POST', '/user/kick?device_sn=1', { token: own.token })).body.code).toBe(200);
      expect((await call('POST', '/user/change_password', { token: own.token, body: { old_password: PASSWORD, new_password: NEW_PASSWORD } })).body.code).toBe(200);
      await expectRevoked(phone.token);
      expect(await auditCount(user)).toBe(before);
    });

    describe('what each reader sees of them', () => {
      let user: UserEntity;
      let own: Login;
      let started: number;

      beforeAll(async () => {
        user = await newUser();
        await syncGroup([[owner, 'owner'], [user, 'member']], '1700000000081');
        own = await login(user);
        started = Date.now();
        // Newest first in every listing: the owner's call, then the admin's.
        expect((await deviceList(asAdmin(user))).body.code).toBe(200);
        expect((await deviceList({ token: tokens.owner, actingFor: user })).body.code).toBe(200);
        expect((await deviceList({ token: own.token })).body.code).toBe(200);
      });

      const rowsOf = async (reply: Reply) => {
        expect(reply.body.code).toBe(200);
        const rows = (reply.body.data as Array<Record<string, unknown>>).filter((row) => row.path === '/user/device/list');
        expect(rows).toHaveLength(2);
        for (const row of rows) {
          expect(Object.keys(row).sort()).toEqual(['acting_group_id', 'acting_user_id', 'at', 'caller_id', 'caller_kind', 'client_ip', 'method', 'path']);
          expect(row).toMatchObject({ acting_user_id: user.id, acting_group_id: null, method: 'GET' });
          expect(row.at).toBeGreaterThanOrEqual(started - 5000);
        }
        expect(rows[0].at as number).toBeGreaterThanOrEqual(rows[1].at as number);
        return rows;
      };

      it('shows the user what was done and when, with no address, and the caller only when it was an admin token', async () => {
        const rows = await rowsOf(await call('GET', '/user/impersonations', { token: own.token }));
        expect(rows[0]).toMatchObject({ caller_kind: 'user', caller_id: null, client_ip: null });
        expect(rows[1]).toMatchObject({ caller_kind: 'admin', caller_id: expect.stringMatching(/^[0-9a-f-]{36}$/), client_ip: null });
      });

      it('shows a group owner acting for the user no more than the user sees', async () => {
        const rows = await rowsOf(await call('GET', '/user/impersonations', { token: tokens.owner, actingFor: user }));
        expect(rows[0]).toMatchObject({ caller_kind: 'user', caller_id: null, client_ip: null });
        expect(rows[1]).toMatchObject({ caller_kind: 'admin', caller_id: expect.stringMatching(/^[0-9a-f-]{36}$/), client_ip: null });
      });

      it('shows an admin with user_id every row whole: who called, and from where', async () => {
        const rows = await rowsOf(await call('GET', '/user/impersonations', asAdmin(user)));
        expect(rows[0]).toMatchObject({ caller_kind: 'user', caller_id: String(owner.id), client_ip: expect.stringMatching(/127\.0\.0\.1/) });
        expect(rows[1]).toMatchObject({ caller_kind: 'admin', caller_id: expect.stringMatching(/^[0-9a-f-]{36}$/), client_ip: expect.stringMatching(/127\.0\.0\.1/) });
      });
    });

    it('lists them for an admin with user_id, including that very call', async () => {
      const user = await newUser();
      const reply = await call('GET', '/user/impersonations', asAdmin(user));
      expect(reply.body.code).toBe(200);
      expect(reply.body.data).toEqual([expect.objectContaining({ caller_kind: 'admin', acting_user_id: user.id, path: '/user/impersonations' })]);
    });

    it("does not list another user's audit rows", async () => {
      const user = await newUser();
      const own = await login(user);
      expect((await deviceList(asAdmin(member))).body.code).toBe(200);
      expectOk(await call('GET', '/user/impersonations', { token: own.token }), []);
    });
  });

  describe('password proofs and the login throttle', () => {
    it('counts wrong old passwords as failed logins of the account', async () => {
      const strict = await service.createApp({ loginFreeFailures: 2, loginIpFreeFailures: 1000 });
      const user = await service.createUser(strict.app, { username: 'throttled_user', password: PASSWORD });
      const reply = await service.post('/token/id', { appId: strict.app.id, body: { user_id: user.id, password: PASSWORD } });
      const token = reply.body.data.token as string;
      const change = () =>
        service.post('/user/change_password', { appId: strict.app.id, token, body: { old_password: 'not the password', new_password: NEW_PASSWORD } });
      for (let i = 0; i < 3; i++) expectError(await change(), 401, 10101);
      const throttled = await change();
      expectError(throttled, 429, 10103);
      expect(throttled.headers.get('retry-after')).toMatch(/^\d+$/);
      const blockedLogin = await service.post('/token/id', { appId: strict.app.id, body: { user_id: user.id, password: PASSWORD } });
      expectError(blockedLogin, 429, 10103);
    });
  });
});
