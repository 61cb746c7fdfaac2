/**
 * The device calls of the platform's web SDK, sent and read as it does (PlatformSdkClient): its
 * "sign out that phone" (`POST /user/kick` with `{"device_sn": n}` in the JSON body) and device
 * removal with device_sn in the body or the query.
 */
import { PlatformSdkClient } from '../support/platform-sdk-client';
import { TestService, type TestApp } from '../support/test-service';
import type { UserEntity } from '../../apps/auth/src/users/user.entity';

const PASSWORD = 'correct horse battery';

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
      for (const bad of [0, -1, 1.5, 2 ** 31, 'one', true, [1]]) {
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
});
