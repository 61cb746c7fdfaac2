/**
 * The service as the platform's web SDK meets it, on the service's default configuration: the SDK
 * sends `app_id` and whatever `access-token` it holds on every call, treats any non-2xx reply as a
 * transport failure, reads `code` in a 2xx reply, and logs in again by itself on code 402.
 *
 * - Business errors reach the SDK as `{code, message}` (HTTP 200 by default), and the code stays in
 *   the request log and the metrics.
 * - Open registration works with the stale token the SDK still holds (after deleting the account,
 *   after expiry), while a valid admin token still means admin.
 * - An expired token answers 402 on the user endpoints, so the SDK logs in again; a token that must
 *   not come back that way (kicked device, banned or deleted user, another app's, unknown key,
 *   malformed) answers 10008 even when it has expired too.
 */
import { generateKeyPairSync } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sign } from 'jsonwebtoken';
import { TestService, decodeJwt, type TestApp } from '../support/test-service';
import { PlatformSdkClient } from '../support/platform-sdk-client';
import { TenantsService } from '../../apps/auth/src/tenants/tenants.service';
import type { UserEntity } from '../../apps/auth/src/users/user.entity';

const PASSWORD = 'correct horse battery';
/**
 * Tokens of an app with this lifetime expire within a second of their login, so a test waits them
 * out; they may expire at once too, so nothing a test does before the wait may need them alive
 * (the operator's actions use the admin token, which does not expire).
 */
const SHORT_TTL_SECONDS = 1;

/** Resolves once every token is past its `exp` (the service runs in this process, on this clock). */
async function untilExpired(tokens: string[]): Promise<void> {
  const latest = Math.max(...tokens.map((token) => decodeJwt(token).claims.exp as number));
  const left = latest * 1000 - Date.now();
  if (left > 0) await sleep(left + 20);
}

describe('the platform web SDK against the default configuration', () => {
  let service: TestService;
  const lines: Array<Record<string, any>> = [];

  beforeAll(async () => {
    // ERROR_HTTP_STATUS left unset: the service's own default, as a deployment runs it.
    service = await TestService.start({ ERROR_HTTP_STATUS: undefined, LOG_LEVEL: 'log' }, { logLines: lines });
  });
  afterAll(() => service.close());

  const sdkFor = (tenant: TestApp) => new PlatformSdkClient(service.baseUrl, tenant.app.id);

  async function loggedIn(tenant: TestApp, user: UserEntity, deviceGuid?: string): Promise<PlatformSdkClient> {
    const sdk = sdkFor(tenant);
    const body = { name: user.username, password: PASSWORD, ...(deviceGuid ? { device_guid: deviceGuid } : {}) };
    expect(await sdk.login('/token/user', body)).toEqual({ ok: true, data: expect.objectContaining({ user_id: user.id }) });
    return sdk;
  }

  describe('errors it can read: HTTP 200 with the code in the body', () => {
    let tenant: TestApp;
    let alice: UserEntity;

    beforeAll(async () => {
      tenant = await service.createApp();
      alice = await service.createUser(tenant.app, { username: 'sdk_alice', password: PASSWORD });
    });

    it('reads a wrong password as code 10101, not as a transport failure', async () => {
      const outcome = await sdkFor(tenant).login('/token/user', { name: alice.username, password: 'not the password' });
      expect(outcome).toEqual({ ok: false, code: 10101, message: 'Wrong user or password' });
    });

    it('reads an unknown app, a missing field and an admin-only route by their codes', async () => {
      const nowhere = new PlatformSdkClient(service.baseUrl, 'no-such-app');
      expect(await nowhere.login('/token/user', { name: alice.username, password: PASSWORD })).toMatchObject({ ok: false, code: 40000 });
      expect(await sdkFor(tenant).post('/token/user', { name: alice.username })).toMatchObject({ ok: false, code: 10002, message: 'password is required' });
      const sdk = await loggedIn(tenant, alice);
      expect(await sdk.get('/user/list', { page_num: 1, page_size: 10 })).toMatchObject({ ok: false, code: 10010 });
    });

    it('keeps the code in the request log line and in the metrics, though the HTTP status is 200', async () => {
      await sdkFor(tenant).login('/token/id', { user_id: alice.id, password: 'not the password' });
      const line = lines.filter((entry) => entry.route === '/token/id').pop();
      expect(line).toMatchObject({ status: 200, code: 10101, msg: expect.stringContaining('POST /token/id 200 10101') });
      const metrics = (await service.call('GET', '/metrics')).text;
      expect(metrics).toMatch(/^http_reply_codes_total\{route="\/token\/id",code="10101"\} [1-9]/m);
      expect(metrics).toMatch(/^auth_logins_total\{route="\/token\/id",outcome="10101"\} [1-9]/m);
    });

    it("keeps an app's own mirror setting: its errors are HTTP statuses, which the SDK cannot read", async () => {
      const mirrored = await service.createApp({ errorHttpStatus: 'mirror' });
      await service.createUser(mirrored.app, { username: 'sdk_alice', password: PASSWORD });
      expect(await sdkFor(mirrored).login('/token/user', { name: 'sdk_alice', password: 'not the password' })).toEqual({ ok: false, transportStatus: 401 });
    });
  });

  describe('open registration with the token the SDK still holds', () => {
    let open: TestApp;

    beforeAll(async () => {
      open = await service.createApp({ openRegistration: true });
    });

    it('registers again on the device of a deleted account, sending its dead token', async () => {
      const sdk = sdkFor(open);
      expect(await sdk.post('/user/register/v2', { username: 'sdk_phoenix', password: PASSWORD })).toMatchObject({ ok: true });
      expect(await sdk.login('/token/user', { name: 'sdk_phoenix', password: PASSWORD })).toMatchObject({ ok: true });
      const dead = sdk.token;
      expect(await sdk.post('/user/delete', { password: PASSWORD })).toEqual({ ok: true, data: true });
      // The SDK still holds the token and sends it: it names a deleted user's revoked session.
      expect(sdk.token).toBe(dead);
      expect(await sdk.get('/user/device/list')).toMatchObject({ ok: false, code: 10008 });
      const again = await sdk.post('/user/register/v2', { username: 'sdk_phoenix', password: PASSWORD });
      expect(again).toEqual({ ok: true, data: expect.objectContaining({ username: 'sdk_phoenix' }) });
      expect(await sdk.login('/token/user', { name: 'sdk_phoenix', password: PASSWORD })).toMatchObject({ ok: true });
    });

    it('registers with an expired token, a token of another app, or garbage held', async () => {
      const shortLived = await service.createApp({ openRegistration: true, tokenTtlSeconds: SHORT_TTL_SECONDS });
      const someone = await service.createUser(shortLived.app, { username: 'sdk_someone', password: PASSWORD });
      const expiring = await loggedIn(shortLived, someone);
      const other = await service.createApp();
      const foreign = await loggedIn(other, await service.createUser(other.app, { username: 'sdk_foreigner', password: PASSWORD }));
      await untilExpired([expiring.token!]);
      expect(await expiring.get('/user/device/list')).toMatchObject({ ok: false, code: 402 });

      expect(await expiring.post('/user/register/v2', { username: 'sdk_after_expiry', password: PASSWORD })).toMatchObject({ ok: true });
      const carrying = (token: string) => Object.assign(sdkFor(shortLived), { token });
      expect(await carrying(foreign.token!).post('/user/register/v2', { username: 'sdk_with_foreign', password: PASSWORD })).toMatchObject({ ok: true });
      expect(await carrying('not-a-token').post('/user/register/v2', { username: 'sdk_with_garbage', password: PASSWORD })).toMatchObject({ ok: true });
      expect(await carrying('adm_not-a-real-token').post('/user/register/v2', { username: 'sdk_with_bad_admin', password: PASSWORD })).toMatchObject({ ok: true });
    });

    it('still takes a valid admin token as admin: it registers on an app closed to open registration', async () => {
      const closed = await service.createApp();
      const operator = Object.assign(sdkFor(closed), { token: closed.adminToken });
      expect(await operator.post('/user/register/v2', { username: 'sdk_by_admin', password: PASSWORD })).toMatchObject({ ok: true });
      // Without one, the closed app says so; with a bad one, it says the token is bad.
      expect(await sdkFor(closed).post('/user/register/v2', { username: 'sdk_walk_in', password: PASSWORD })).toMatchObject({ ok: false, code: 10010 });
      const stale = Object.assign(sdkFor(closed), { token: 'adm_not-a-real-token' });
      expect(await stale.post('/user/register/v2', { username: 'sdk_walk_in', password: PASSWORD })).toMatchObject({ ok: false, code: 10008 });
    });

    it('resolves the token strictly when user_id is sent along: the header asks it to mean something', async () => {
      const reply = await service.post('/user/register/v2', {
        appId: open.app.id,
        token: 'not-a-token',
        headers: { user_id: '1234567890123' },
        body: { username: 'sdk_with_header', password: PASSWORD },
      });
      expect({ status: reply.status, code: reply.body.code }).toEqual({ status: 200, code: 10008 });
    });
  });

  describe("expired tokens: code 402, the SDK's re-login signal", () => {
    let tenant: TestApp;
    let alice: UserEntity;
    let phone: PlatformSdkClient;
    let tablet: PlatformSdkClient;
    let banned: PlatformSdkClient;
    let deleted: PlatformSdkClient;
    let foreign: PlatformSdkClient;

    beforeAll(async () => {
      tenant = await service.createApp({ tokenTtlSeconds: SHORT_TTL_SECONDS });
      alice = await service.createUser(tenant.app, { username: 'sdk_alice', password: PASSWORD });
      const bob = await service.createUser(tenant.app, { username: 'sdk_bob', password: PASSWORD });
      const carol = await service.createUser(tenant.app, { username: 'sdk_carol', password: PASSWORD });
      const other = await service.createApp({ tokenTtlSeconds: SHORT_TTL_SECONDS });
      foreign = await loggedIn(other, await service.createUser(other.app, { username: 'sdk_alice', password: PASSWORD }));
      phone = await loggedIn(tenant, alice, 'alice-phone');
      tablet = await loggedIn(tenant, alice, 'alice-tablet');
      banned = await loggedIn(tenant, bob);
      deleted = await loggedIn(tenant, carol);

      // The operator signs the tablet out (alice's second device), bans bob and deletes carol.
      const admin = { appId: tenant.app.id, token: tenant.adminToken };
      const forAlice = { ...admin, headers: { user_id: String(alice.id) } };
      const devices = await service.call('GET', '/user/device/list', forAlice);
      expect(devices.body.data.map((device: { device_sn: number }) => device.device_sn)).toEqual([1, 2]);
      expect((await service.post('/user/kick?device_sn=2', forAlice)).body.code).toBe(200);
      expect((await service.call('PUT', '/user/disable', { ...admin, body: { list: [bob.id] } })).body.code).toBe(200);
      expect((await service.post('/user/delete', { ...admin, headers: { user_id: String(carol.id) } })).body.code).toBe(200);

      // Tokens issued from now on live long, so a re-login's token outlasts the test.
      await service.nest.get(TenantsService).update(tenant.app.id, { tokenTtlSeconds: 3600 });
      await untilExpired([phone, tablet, banned, deleted, foreign].map((sdk) => sdk.token!));
    });

    it('answers 402 on the user endpoints for a token that has only expired, and changes nothing', async () => {
      expect(await phone.get('/user/device/list')).toEqual({ ok: false, code: 402, message: 'access-token has expired' });
      expect(await phone.get('/user/impersonations')).toMatchObject({ ok: false, code: 402 });
      expect(await phone.post('/user/kick', {})).toMatchObject({ ok: false, code: 402 });
      expect(await phone.post('/user/change_password', { old_password: PASSWORD, new_password: 'a brand new password' })).toMatchObject({ ok: false, code: 402 });
      expect(await phone.post('/user/delete', { password: PASSWORD })).toMatchObject({ ok: false, code: 402 });
      // Nothing above took effect: the same password still logs in.
      expect(await sdkFor(tenant).login('/token/user', { name: alice.username, password: PASSWORD })).toMatchObject({ ok: true });
    });

    it('logs in again as the SDK does on 402, sending the expired token along, and the call then goes through', async () => {
      const sdk = Object.assign(sdkFor(tenant), { token: phone.token });
      expect(await sdk.get('/user/device/list')).toMatchObject({ ok: false, code: 402 });
      const relogin = await sdk.login('/token/user', { name: alice.username, password: PASSWORD, device_guid: 'alice-phone' });
      expect(relogin).toMatchObject({ ok: true });
      expect(sdk.token).not.toBe(phone.token);
      expect(await sdk.get('/user/device/list')).toEqual({ ok: true, data: expect.arrayContaining([expect.objectContaining({ device_sn: 1 })]) });
    });

    it('answers 10008 to the kicked device, the banned user and the deleted account: no silent re-login', async () => {
      const revoked = { ok: false, code: 10008, message: 'access-token has been revoked' };
      expect({ tablet: await tablet.get('/user/device/list') }).toEqual({ tablet: revoked });
      expect({ banned: await banned.get('/user/device/list') }).toEqual({ banned: revoked });
      expect({ deleted: await deleted.get('/user/device/list') }).toEqual({ deleted: revoked });
    });

    it('answers 10008 to expired tokens of another app, of an unknown key, and to a malformed one', async () => {
      const here = (token: string) => Object.assign(sdkFor(tenant), { token });
      expect(await here(foreign.token!).get('/user/device/list')).toEqual({ ok: false, code: 10008, message: 'access-token was issued for another app' });

      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const { claims } = decodeJwt(phone.token!);
      const unknownKey = sign(claims, privateKey, { algorithm: 'RS256', keyid: 'no-such-key' });
      expect(await here(unknownKey).get('/user/device/list')).toEqual({ ok: false, code: 10008, message: 'access-token is signed by an unknown key' });
      expect(await here('not.a.jwt').get('/user/device/list')).toEqual({ ok: false, code: 10008, message: 'access-token is malformed' });
    });
  });

  describe('a device signed out after its token had already expired', () => {
    it('answers 10008, not 402: a kicked or banned device must not log back in by itself', async () => {
      const tenant = await service.createApp({ tokenTtlSeconds: SHORT_TTL_SECONDS });
      const dave = await service.createUser(tenant.app, { username: 'sdk_dave', password: PASSWORD });
      const erin = await service.createUser(tenant.app, { username: 'sdk_erin', password: PASSWORD });
      const davesPhone = await loggedIn(tenant, dave, 'dave-phone');
      const erinsPhone = await loggedIn(tenant, erin);
      await untilExpired([davesPhone.token!, erinsPhone.token!]);
      expect(await davesPhone.get('/user/device/list')).toMatchObject({ ok: false, code: 402 });

      const admin = { appId: tenant.app.id, token: tenant.adminToken };
      expect((await service.post('/user/kick', { ...admin, headers: { user_id: String(dave.id) }, body: { device_sn: 1 } })).body.code).toBe(200);
      expect((await service.call('PUT', '/user/disable', { ...admin, body: { list: [erin.id] } })).body.code).toBe(200);

      const revoked = { ok: false, code: 10008, message: 'access-token has been revoked' };
      expect({ dave: await davesPhone.get('/user/device/list'), erin: await erinsPhone.get('/user/device/list') }).toEqual({ dave: revoked, erin: revoked });
    });
  });
});
