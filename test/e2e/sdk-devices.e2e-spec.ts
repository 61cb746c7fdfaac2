/**
 * The device calls of the platform's SDKs, sent and read as they do (PlatformSdkClient): "sign out
 * that phone" (`POST /user/kick` with `{"device_sn": n}` in the JSON body), device removal with
 * device_sn in the body or the query, and vendor push tokens (`POST /user/token/bind` and
 * `/user/token/unbind`), which every way of signing a device out drops.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { QueryRunner } from 'typeorm';
import { PlatformSdkClient } from '../support/platform-sdk-client';
import { TestService, decodeJwt, type TestApp } from '../support/test-service';
import { ThrowawayPostgres } from '../support/throwaway-postgres';
import { runMigrations } from '../../apps/auth/src/database/migrate';
import { DeviceEntity } from '../../apps/auth/src/devices/device.entity';
import { SessionRevoker } from '../../apps/auth/src/sessions/session-revoker';
import type { UserEntity } from '../../apps/auth/src/users/user.entity';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a brand new horse battery';

describe('the web SDK’s device calls', () => {
  let service: TestService;
  let tenant: TestApp;
  let names = 0;

  beforeAll(async () => {
    service = await TestService.start({ ERROR_HTTP_STATUS: '200' });
    tenant = await service.createApp();
  });
  afterAll(() => service.close());

  const sdk = () => new PlatformSdkClient(service.baseUrl, tenant.app.id);

  /** A user signed in on a phone (device 1), a tablet (device 2) and the web SDK (no device). */
  async function signedInEverywhere(): Promise<{ user: UserEntity; phone: PlatformSdkClient; tablet: PlatformSdkClient; web: PlatformSdkClient }> {
    const user = await service.createUser(tenant.app, { username: `sdk_devices_${++names}` });
    const [phone, tablet, web] = [sdk(), sdk(), sdk()];
    expect(await phone.login('/token/user', { name: user.username, password: PASSWORD, device_guid: 'phone-guid' })).toMatchObject({ ok: true });
    expect(await tablet.login('/token/user', { name: user.username, password: PASSWORD, device_guid: 'tablet-guid' })).toMatchObject({ ok: true });
    expect(await web.login('/token/user', { name: user.username, password: PASSWORD })).toMatchObject({ ok: true });
    expect(await web.get('/user/device/list')).toMatchObject({ ok: true, data: [{ device_sn: 1 }, { device_sn: 2 }] });
    return { user, phone, tablet, web };
  }

  /**
   * device_sn in both the query and the body: no SDK sends that, so it goes out by hand, with the
   * client's headers, and is read the same way.
   */
  async function inBoth(client: PlatformSdkClient, path: string, inQuery: number, inBody: number): Promise<{ code: number; data: unknown }> {
    const reply = await service.post(`${path}?device_sn=${inQuery}`, { appId: client.appId, token: client.token, body: { device_sn: inBody } });
    expect(reply.status).toBe(200);
    return { code: reply.body.code, data: reply.body.data };
  }

  /** Whether the client's token still works, read as the SDK reads a call. */
  const stillSignedIn = async (client: PlatformSdkClient) => (await client.get('/user/device/list')).ok;

  describe('POST /user/kick', () => {
    it('signs out only the device named by device_sn in the JSON body', async () => {
      const { phone, tablet, web } = await signedInEverywhere();
      expect(await web.post('/user/kick', { device_sn: 1 })).toEqual({ ok: true, data: true });

      // The phone's next call gets the platform's "invalid access-token"; the others go on.
      expect(await phone.get('/user/device/list')).toMatchObject({ ok: false, code: 10008 });
      expect(await stillSignedIn(tablet)).toBe(true);
      expect(await stillSignedIn(web)).toBe(true);
      // The device stays registered with its device_sn (kick is not removal).
      expect(await web.get('/user/device/list')).toMatchObject({ ok: true, data: [{ device_sn: 1 }, { device_sn: 2 }] });
    });

    it('reads device_sn from the query too, and from both when they agree', async () => {
      const { phone, tablet, web } = await signedInEverywhere();
      expect(await web.postQuery('/user/kick', { device_sn: 2 })).toEqual({ ok: true, data: true });
      expect(await stillSignedIn(tablet)).toBe(false);
      expect(await stillSignedIn(phone)).toBe(true);

      expect(await inBoth(web, '/user/kick', 1, 1)).toEqual({ code: 200, data: true });
      expect(await stillSignedIn(phone)).toBe(false);
      expect(await stillSignedIn(web)).toBe(true);
    });

    it('answers 10002 when the body and the query name different devices, signing out nobody', async () => {
      const { phone, tablet, web } = await signedInEverywhere();
      expect(await inBoth(web, '/user/kick', 2, 1)).toEqual({ code: 10002, data: null });
      for (const client of [phone, tablet, web]) expect(await stillSignedIn(client)).toBe(true);
    });

    it('reads a decimal string as the number, and answers 10002 for anything else that is not a device_sn', async () => {
      const { phone, tablet, web } = await signedInEverywhere();
      // null too: read as absent, it would sign out every device.
      for (const bad of [0, -1, 1.5, 2 ** 31, 'one', true, [1], null]) {
        expect(await web.post('/user/kick', { device_sn: bad })).toMatchObject({ ok: false, code: 10002, message: expect.stringMatching(/device_sn/) });
      }
      expect(await web.post('/user/kick', { device_sn: 9 })).toMatchObject({ ok: false, code: 10002, message: expect.stringMatching(/no device with device_sn 9/) });
      for (const client of [phone, tablet, web]) expect(await stillSignedIn(client)).toBe(true);

      expect(await web.post('/user/kick', { device_sn: '2' })).toEqual({ ok: true, data: true });
      expect(await stillSignedIn(tablet)).toBe(false);
      expect(await stillSignedIn(phone)).toBe(true);
    });

    it('signs out every device, the caller included, only when neither the body nor the query names one', async () => {
      const { phone, tablet, web } = await signedInEverywhere();
      expect(await web.post('/user/kick', {})).toEqual({ ok: true, data: true });
      for (const client of [phone, tablet, web]) expect(await stillSignedIn(client)).toBe(false);
    });
  });

  describe('POST /user/device/remove', () => {
    it('forgets the device named in the JSON body, leaving the others signed in', async () => {
      const { phone, tablet, web } = await signedInEverywhere();
      expect(await web.post('/user/device/remove', { device_sn: 1 })).toEqual({ ok: true, data: true });
      expect(await stillSignedIn(phone)).toBe(false);
      expect(await stillSignedIn(tablet)).toBe(true);
      expect(await web.get('/user/device/list')).toMatchObject({ ok: true, data: [{ device_sn: 2 }] });
    });

    it('forgets the device named in the query, as before', async () => {
      const { phone, tablet, web } = await signedInEverywhere();
      expect(await web.postQuery('/user/device/remove', { device_sn: 2 })).toEqual({ ok: true, data: true });
      expect(await stillSignedIn(tablet)).toBe(false);
      expect(await stillSignedIn(phone)).toBe(true);
    });

    it('answers 10002 when device_sn is in neither, or the two disagree, removing nothing', async () => {
      const { web } = await signedInEverywhere();
      expect(await web.post('/user/device/remove', {})).toMatchObject({ ok: false, code: 10002, message: 'device_sn is required' });
      expect(await inBoth(web, '/user/device/remove', 1, 2)).toEqual({ code: 10002, data: null });
      expect(await web.get('/user/device/list')).toMatchObject({ ok: true, data: [{ device_sn: 1 }, { device_sn: 2 }] });
    });
  });

  describe('vendor push tokens', () => {
    const APNS = '740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad';
    const FCM = 'fcm:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx';
    let tokens = 0;
    /** A vendor token of its own per test: one token reaches one device of the app. */
    const vendorToken = (base: string) => `${base}-${++tokens}`;

    const bind = (client: PlatformSdkClient, deviceSn: number, token: string, notifier = 'apns-production') =>
      client.post('/user/token/bind', { device_sn: deviceSn, device_token: token, notifier_name: notifier });
    /** A token of its own bound on the phone (device 1) and on the tablet (device 2); answers the phone's. */
    const bindPhoneAndTablet = async ({ phone, tablet }: { phone: PlatformSdkClient; tablet: PlatformSdkClient }): Promise<string> => {
      const phoneToken = vendorToken(APNS);
      await bind(phone, 1, phoneToken);
      await bind(tablet, 2, vendorToken(FCM), 'fcm');
      return phoneToken;
    };
    /** An admin bans the user. */
    const ban = (user: UserEntity) => service.call('PUT', '/user/disable', { appId: tenant.app.id, token: tenant.adminToken, body: { list: [user.id] } });
    /** An admin sets the user's password. */
    const resetPassword = (user: UserEntity) =>
      service.call('POST', '/user/change_password_admin', {
        appId: tenant.app.id,
        token: tenant.adminToken,
        headers: { user_id: String(user.id) },
        body: { password: NEW_PASSWORD },
      });

    /** What is bound on each of the user's devices, read from the database (the API never shows the token). */
    async function boundTokens(user: UserEntity): Promise<Record<number, string | null>> {
      const devices = await service.dataSource.getRepository(DeviceEntity).find({ where: { userId: user.id }, order: { deviceSn: 'ASC' } });
      return Object.fromEntries(devices.map((device) => [device.deviceSn, device.vendorPushToken]));
    }

    it("binds the phone's token to its device and lists the binding, never the token", async () => {
      const { user, phone, web } = await signedInEverywhere();
      const token = vendorToken(APNS);
      expect(await bind(phone, 1, token)).toEqual({ ok: true, data: true });

      const list = await web.get('/user/device/list');
      expect(list).toEqual({
        ok: true,
        data: [
          expect.objectContaining({ device_sn: 1, push_binding: { notifier_name: 'apns-production', bound_at: expect.any(Number) } }),
          expect.objectContaining({ device_sn: 2, push_binding: null }),
        ],
      });
      expect(JSON.stringify(list)).not.toContain(token);
      expect(await boundTokens(user)).toEqual({ 1: token, 2: null });
    });

    it('binds again over its own binding, with a new token or notifier', async () => {
      const { user, phone, web } = await signedInEverywhere();
      await bind(phone, 1, vendorToken(APNS));
      const renewed = vendorToken(APNS);
      expect(await bind(phone, 1, renewed, 'apns-sandbox')).toEqual({ ok: true, data: true });
      expect(await boundTokens(user)).toEqual({ 1: renewed, 2: null });
      expect(await web.get('/user/device/list')).toMatchObject({ data: [{ push_binding: { notifier_name: 'apns-sandbox' } }, {}] });
    });

    it("unbinds the device named in the query (device_sn or deviceSn), or without one the calling token's own device", async () => {
      const { user, phone, tablet, web } = await signedInEverywhere();
      await bind(phone, 1, vendorToken(APNS));
      expect(await web.postQuery('/user/token/unbind', { device_sn: 1 })).toEqual({ ok: true, data: true });
      expect(await boundTokens(user)).toEqual({ 1: null, 2: null });

      await bind(tablet, 2, vendorToken(FCM), 'fcm');
      expect(await web.postQuery('/user/token/unbind', { deviceSn: 2 })).toEqual({ ok: true, data: true });
      expect(await boundTokens(user)).toEqual({ 1: null, 2: null });

      const [phoneToken, tabletToken] = [vendorToken(APNS), vendorToken(FCM)];
      await bind(phone, 1, phoneToken);
      await bind(tablet, 2, tabletToken, 'fcm');
      expect(await phone.postQuery('/user/token/unbind')).toEqual({ ok: true, data: true });
      expect(await boundTokens(user)).toEqual({ 1: null, 2: tabletToken });
      // Unbinding an unbound device is no error.
      expect(await phone.postQuery('/user/token/unbind')).toEqual({ ok: true, data: true });
    });

    it('answers 10002 for an unbind that names no device, or two different ones', async () => {
      const { user, phone, web } = await signedInEverywhere();
      const token = vendorToken(APNS);
      await bind(phone, 1, token);
      // The web SDK's token was issued without a device.
      expect(await web.postQuery('/user/token/unbind')).toMatchObject({ ok: false, code: 10002, message: expect.stringMatching(/device_sn is required/) });
      expect(await web.postQuery('/user/token/unbind', { device_sn: 1, deviceSn: 2 })).toMatchObject({ ok: false, code: 10002 });
      expect(await web.postQuery('/user/token/unbind', { device_sn: 9 })).toMatchObject({ ok: false, code: 10002, message: expect.stringMatching(/device_sn 9/) });
      expect(await boundTokens(user)).toEqual({ 1: token, 2: null });
    });

    it.each([
      ['no device_sn', { device_token: APNS, notifier_name: 'apns' }, /device_sn is required/],
      ['no device_token', { device_sn: 1, notifier_name: 'apns' }, /device_token is required/],
      ['no notifier_name', { device_sn: 1, device_token: APNS }, /notifier_name is required/],
      ['an empty device_token', { device_sn: 1, device_token: '', notifier_name: 'apns' }, /device_token/],
      ['a device_token with spaces', { device_sn: 1, device_token: 'a b', notifier_name: 'apns' }, /device_token/],
      ['a device_token over 512 characters', { device_sn: 1, device_token: 'x'.repeat(513), notifier_name: 'apns' }, /device_token/],
      ['a notifier_name with a control character', { device_sn: 1, device_token: APNS, notifier_name: 'apns\n' }, /notifier_name/],
      ['a device the user does not have', { device_sn: 9, device_token: APNS, notifier_name: 'apns' }, /no device with device_sn 9/],
    ])('answers a bind with %s with 10002, binding nothing', async (_label, body, message) => {
      const { user, phone } = await signedInEverywhere();
      expect(await phone.post('/user/token/bind', body)).toEqual({ ok: false, code: 10002, message: expect.stringMatching(message) });
      expect(await boundTokens(user)).toEqual({ 1: null, 2: null });
    });

    it('moves a token bound to another device of the app there (the phone changed accounts)', async () => {
      const first = await signedInEverywhere();
      const second = await signedInEverywhere();
      const token = vendorToken(APNS);
      await bind(first.phone, 1, token);
      expect(await bind(second.phone, 1, token)).toEqual({ ok: true, data: true });
      expect(await boundTokens(first.user)).toEqual({ 1: null, 2: null });
      expect(await boundTokens(second.user)).toEqual({ 1: token, 2: null });
    });

    it("drops the kicked phone's binding, keeping the tablet's", async () => {
      const { user, phone, tablet, web } = await signedInEverywhere();
      const tabletToken = vendorToken(FCM);
      await bind(phone, 1, vendorToken(APNS));
      await bind(tablet, 2, tabletToken, 'fcm');
      expect(await web.post('/user/kick', { device_sn: 1 })).toEqual({ ok: true, data: true });
      expect(await boundTokens(user)).toEqual({ 1: null, 2: tabletToken });
      expect(await web.get('/user/device/list')).toMatchObject({ data: [{ push_binding: null }, { push_binding: { notifier_name: 'fcm' } }] });
    });

    it('drops every binding when the kick names no device', async () => {
      const { user, phone, tablet, web } = await signedInEverywhere();
      await bind(phone, 1, vendorToken(APNS));
      await bind(tablet, 2, vendorToken(FCM), 'fcm');
      expect(await web.post('/user/kick', {})).toEqual({ ok: true, data: true });
      expect(await boundTokens(user)).toEqual({ 1: null, 2: null });
    });

    it('takes the binding with a removed device', async () => {
      const { user, phone, tablet, web } = await signedInEverywhere();
      const tabletToken = vendorToken(FCM);
      await bind(phone, 1, vendorToken(APNS));
      await bind(tablet, 2, tabletToken, 'fcm');
      expect(await web.post('/user/device/remove', { device_sn: 1 })).toEqual({ ok: true, data: true });
      expect(await boundTokens(user)).toEqual({ 2: tabletToken });
    });

    it("drops the bindings of a banned user's devices", async () => {
      const signedIn = await signedInEverywhere();
      await bindPhoneAndTablet(signedIn);
      const { user } = signedIn;
      expect((await ban(user)).body).toMatchObject({ code: 200 });
      expect(await boundTokens(user)).toEqual({ 1: null, 2: null });
    });

    it('drops the bindings of the devices a password change signs out, keeping the one of the device it came from', async () => {
      const signedIn = await signedInEverywhere();
      const { user, phone } = signedIn;
      const phoneToken = await bindPhoneAndTablet(signedIn);
      expect(await phone.post('/user/change_password', { old_password: PASSWORD, new_password: NEW_PASSWORD })).toEqual({ ok: true, data: true });
      expect(await boundTokens(user)).toEqual({ 1: phoneToken, 2: null });
    });

    it('drops every binding when the password changes from a token without a device, or by an admin', async () => {
      const own = await signedInEverywhere();
      await bindPhoneAndTablet(own);
      expect(await own.web.post('/user/change_password', { old_password: PASSWORD, new_password: NEW_PASSWORD })).toEqual({ ok: true, data: true });
      expect(await boundTokens(own.user)).toEqual({ 1: null, 2: null });

      const reset = await signedInEverywhere();
      await bindPhoneAndTablet(reset);
      expect((await resetPassword(reset.user)).body).toMatchObject({ code: 200 });
      expect(await boundTokens(reset.user)).toEqual({ 1: null, 2: null });
    });

    it("drops the binding of the device whose token revokes itself, and no other device's", async () => {
      const signedIn = await signedInEverywhere();
      const { user, phone, tablet } = signedIn;
      const phoneToken = await bindPhoneAndTablet(signedIn);
      expect(await tablet.post('/token/revoke', {})).toEqual({ ok: true, data: true });
      expect(await boundTokens(user)).toEqual({ 1: phoneToken, 2: null });
      expect(await stillSignedIn(phone)).toBe(true);
    });

    it('takes the bindings with a deleted account', async () => {
      const { user, phone, web } = await signedInEverywhere();
      const token = vendorToken(APNS);
      await bind(phone, 1, token);
      expect(await web.post('/user/delete', { password: PASSWORD })).toEqual({ ok: true, data: true });
      expect(await service.dataSource.getRepository(DeviceEntity).countBy({ userId: user.id })).toBe(0);
      expect(await service.dataSource.getRepository(DeviceEntity).countBy({ vendorPushToken: token })).toBe(0);
    });

    // Two transactions at once need a PostgreSQL server: the embedded one runs them one at a time.
    // On a run on the embedded database these tests use a server of their own (and a service and
    // app on it, in place of the file's for their duration).
    describe('racing a sign-out or another bind', () => {
      let blocker: QueryRunner;
      let postgres: ThrowawayPostgres | undefined;
      let fileService: TestService;
      let fileTenant: TestApp;

      beforeAll(async () => {
        if (process.env.TEST_DATABASE_KIND === 'server') return;
        [fileService, fileTenant] = [service, tenant];
        postgres = await ThrowawayPostgres.create();
        await runMigrations(postgres.url);
        service = await TestService.start({ ERROR_HTTP_STATUS: '200' }, { databaseUrl: postgres.url });
        tenant = await service.createApp();
      }, 90_000);
      afterAll(async () => {
        if (!postgres) return;
        await service.close();
        [service, tenant] = [fileService, fileTenant];
        await postgres.dispose();
      });

      beforeEach(async () => {
        blocker = service.dataSource.createQueryRunner();
        await blocker.connect();
        await blocker.startTransaction();
      });
      afterEach(async () => {
        if (blocker.isTransactionActive) await blocker.rollbackTransaction();
        await blocker.release();
      });

      /** Resolves once a statement of the service waits for a lock that the blocker holds. */
      async function blockedByBlocker(): Promise<void> {
        const [{ pid }] = await blocker.query('SELECT pg_backend_pid() AS pid');
        for (let waited = 0; waited < 10_000; waited += 20) {
          const [{ waiting }] = await service.dataSource.query('SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [pid]);
          if (waiting > 0) return;
          await sleep(20);
        }
        throw new Error('no statement of the service waited for the blocker');
      }

      const deviceId = async (user: UserEntity, deviceSn: number) =>
        (await service.dataSource.getRepository(DeviceEntity).findOneByOrFail({ userId: user.id, deviceSn })).id;

      it('refuses a bind whose session is revoked while it waits for the device (a kick committing first), binding nothing', async () => {
        const { user, phone } = await signedInEverywhere();
        await blocker.query('SELECT id FROM device WHERE id = $1 FOR UPDATE', [await deviceId(user, 1)]);
        const binding = bind(phone, 1, vendorToken(APNS));
        await blockedByBlocker();
        // What a kick of the phone writes before it commits: the phone's session is revoked.
        await blocker.query('UPDATE session SET revoked_at = now() WHERE jti = $1', [decodeJwt(phone.token!).claims.jti]);
        await blocker.commitTransaction();
        expect(await binding).toMatchObject({ ok: false, code: 10008 });
        expect(await boundTokens(user)).toEqual({ 1: null, 2: null });
      });

      it('lets a ban wait for a bind that holds the device, and clears what the bind wrote', async () => {
        const { user } = await signedInEverywhere();
        // A bind in flight: it has locked the phone's device and written its token, not yet committed.
        await blocker.query(
          `UPDATE device SET vendor_push_token = $2, vendor_push_notifier = 'apns', vendor_push_bound_at = now() WHERE id = $1`,
          [await deviceId(user, 1), vendorToken(APNS)],
        );
        const banning = ban(user);
        await blockedByBlocker();
        await blocker.commitTransaction();
        expect((await banning).body).toMatchObject({ code: 200 });
        expect(await boundTokens(user)).toEqual({ 1: null, 2: null });
      });

      // A kick of one device locks it, then revokes its sessions. A sign-out that revoked sessions
      // first and then waited for the device would hold what the kick waits for, and deadlock.
      it.each([
        ['a ban', ban],
        ["an admin's password reset", resetPassword],
      ])('lets %s wait for a kick that holds the device, with no deadlock', async (_label, signOut) => {
        const { user, phone } = await signedInEverywhere();
        const phoneId = await deviceId(user, 1);
        await bind(phone, 1, vendorToken(APNS));
        // The kick of the phone, in flight: it has locked the device and not yet revoked its sessions.
        await blocker.query('SELECT id FROM device WHERE id = $1 FOR UPDATE', [phoneId]);
        const signingOut = signOut(user);
        await blockedByBlocker();
        // The kick goes on: it revokes the phone's sessions, which the sign-out must not be holding.
        await service.nest.get(SessionRevoker).revoke({ appId: tenant.app.id, userId: user.id, deviceId: phoneId }, blocker.manager);
        await blocker.commitTransaction();
        expect((await signingOut).body).toMatchObject({ code: 200 });
        expect(await boundTokens(user)).toEqual({ 1: null, 2: null });
      });

      it('gives a token to the later of two binds racing for it, once the earlier one commits', async () => {
        const first = await signedInEverywhere();
        const second = await signedInEverywhere();
        const token = vendorToken(APNS);
        // The earlier bind, not yet committed: the token is on the first user's phone.
        await blocker.query(
          `UPDATE device SET vendor_push_token = $2, vendor_push_notifier = 'apns', vendor_push_bound_at = now() WHERE id = $1`,
          [await deviceId(first.user, 1), token],
        );
        const later = bind(second.phone, 1, token);
        await blockedByBlocker();
        await blocker.commitTransaction();
        expect(await later).toEqual({ ok: true, data: true });
        expect(await boundTokens(first.user)).toEqual({ 1: null, 2: null });
        expect(await boundTokens(second.user)).toEqual({ 1: token, 2: null });
      });
    });
  });
});
