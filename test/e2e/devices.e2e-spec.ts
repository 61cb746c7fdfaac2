/**
 * Logging in with a device_guid: the device is upserted atomically per (app, user, guid), gets
 * the platform's per-user device_sn, keeps its User-Agent, and its push token stays stable.
 */
import { TestService, decodeJwt, type TestApp } from '../support/test-service';
import { DeviceEntity, DevicePlatform } from '../../apps/auth/src/devices/device.entity';
import { SessionEntity } from '../../apps/auth/src/token/session.entity';
import type { UserEntity } from '../../apps/auth/src/users/user.entity';

const PASSWORD = 'correct horse battery';
const IPHONE = 'IMClient/3.2 (iPhone; iOS 17.4; Scale/3.00)';
const ANDROID = 'okhttp/4.12.0 (Linux; Android 14; Pixel 8)';

describe('devices at login', () => {
  let service: TestService;
  let tenant: TestApp;

  beforeAll(async () => {
    service = await TestService.start();
    // These tests log one user in from many devices at once. The throttle counts every attempt in
    // flight on an identifier, so the app allows more of them than the default five.
    tenant = await service.createApp({ loginFreeFailures: 50 });
  });
  afterAll(() => service.close());

  const devicesOf = (user: UserEntity) =>
    service.dataSource.getRepository(DeviceEntity).find({ where: { userId: user.id }, order: { deviceSn: 'ASC' } });

  const loginFrom = (user: UserEntity, deviceGuid: string, userAgent = IPHONE) =>
    service.post('/token/user', {
      appId: tenant.app.id,
      headers: { 'user-agent': userAgent },
      body: { name: user.username, password: PASSWORD, device_guid: deviceGuid },
    });

  it('registers the device, returns its push token and names it in the token', async () => {
    const user = await service.createUser(tenant.app, { username: 'phone_owner' });
    const reply = await loginFrom(user, 'guid-A');
    expect(reply.body.code).toBe(200);
    const [device] = await devicesOf(user);
    expect(device).toMatchObject({ deviceGuid: 'guid-A', deviceSn: 1, userAgent: IPHONE, platform: DevicePlatform.Ios });
    expect(reply.body.data.push_token).toBe(device.pushToken);
    expect(reply.body.data.push_token).toMatch(/^psh_/);
    expect(decodeJwt(reply.body.data.token).claims.device_sn).toBe(1);

    const session = await service.dataSource.getRepository(SessionEntity).findOneByOrFail({ jti: decodeJwt(reply.body.data.token).claims.jti as string });
    expect(session.deviceId).toBe(device.id);
  });

  it('keeps the push token and device_sn across logins from the same device, refreshing its User-Agent', async () => {
    const user = await service.createUser(tenant.app, { username: 'returning' });
    const first = await loginFrom(user, 'guid-R', IPHONE);
    const second = await loginFrom(user, 'guid-R', ANDROID);
    expect(second.body.data.push_token).toBe(first.body.data.push_token);
    const devices = await devicesOf(user);
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({ deviceSn: 1, userAgent: ANDROID, platform: DevicePlatform.Android });
  });

  it('numbers a user\'s devices 1, 2, 3 and gives each its own push token', async () => {
    const user = await service.createUser(tenant.app, { username: 'three_devices' });
    const tokens = [];
    for (const guid of ['g1', 'g2', 'g3']) tokens.push((await loginFrom(user, guid)).body.data.push_token);
    expect(new Set(tokens).size).toBe(3);
    expect((await devicesOf(user)).map((device) => [device.deviceGuid, device.deviceSn])).toEqual([
      ['g1', 1],
      ['g2', 2],
      ['g3', 3],
    ]);
  });

  it('creates one device for 20 concurrent logins with the same guid', async () => {
    const user = await service.createUser(tenant.app, { username: 'concurrent_same' });
    const replies = await Promise.all(Array.from({ length: 20 }, () => loginFrom(user, 'same-guid')));
    expect(replies.map((reply) => reply.body.code)).toEqual(Array(20).fill(200));
    const devices = await devicesOf(user);
    expect(devices).toHaveLength(1);
    expect(new Set(replies.map((reply) => reply.body.data.push_token))).toEqual(new Set([devices[0].pushToken]));
  });

  it('gives distinct device_sn values to 10 new devices logging in at once', async () => {
    const user = await service.createUser(tenant.app, { username: 'concurrent_many' });
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => loginFrom(user, `guid-${i}`)));
    expect(replies.map((reply) => reply.body.code)).toEqual(Array(10).fill(200));
    const serials = (await devicesOf(user)).map((device) => device.deviceSn);
    expect(serials).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('keeps devices per user: the same guid on two users is two devices', async () => {
    const first = await service.createUser(tenant.app, { username: 'shared_guid_1' });
    const second = await service.createUser(tenant.app, { username: 'shared_guid_2' });
    const a = await loginFrom(first, 'family-tablet');
    const b = await loginFrom(second, 'family-tablet');
    expect(a.body.data.push_token).not.toBe(b.body.data.push_token);
    expect(await devicesOf(first)).toHaveLength(1);
    expect(await devicesOf(second)).toHaveLength(1);
  });

  it('writes no device or session for a failed login', async () => {
    const user = await service.createUser(tenant.app, { username: 'failed_device' });
    const reply = await service.post('/token/user', {
      appId: tenant.app.id,
      body: { name: user.username, password: 'wrong password', device_guid: 'never' },
    });
    expect(reply.body.code).toBe(10101);
    expect(await devicesOf(user)).toHaveLength(0);
    expect(await service.dataSource.getRepository(SessionEntity).countBy({ userId: user.id })).toBe(0);
  });
});
