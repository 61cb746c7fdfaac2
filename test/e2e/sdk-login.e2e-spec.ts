/**
 * `/token/user` as the platform's SDKs call it: `{name, password}` or `{mobile, password}`, sent
 * and read by PlatformSdkClient (which also re-sends the token it holds, as the SDK does).
 */
import { PlatformSdkClient } from '../support/platform-sdk-client';
import { TestService, type TestApp } from '../support/test-service';
import type { UserEntity } from '../../apps/auth/src/users/user.entity';

const PASSWORD = 'correct horse battery';

describe('the SDK’s /token/user with a name or a mobile number', () => {
  let service: TestService;
  let tenant: TestApp;
  let user: UserEntity;

  beforeAll(async () => {
    service = await TestService.start({ ERROR_HTTP_STATUS: '200' });
    tenant = await service.createApp({ defaultRegion: 'CN' });
    user = await service.createUser(tenant.app, { username: 'mobile_owner', mobile: '+8613800138000' });
  });
  afterAll(() => service.close());

  const sdk = () => new PlatformSdkClient(service.baseUrl, tenant.app.id);

  it('logs in by mobile number, national in the app’s region or in the + form, and the token works', async () => {
    for (const mobile of ['13800138000', '+86 138 0013 8000', '+8613800138000']) {
      const client = sdk();
      const login = await client.login('/token/user', { mobile, password: PASSWORD });
      expect(login).toMatchObject({ ok: true, data: { user_id: user.id, token: expect.any(String) } });
      expect(await client.get('/user/device/list')).toEqual({ ok: true, data: [] });
    }
  });

  it('still logs in by name', async () => {
    expect(await sdk().login('/token/user', { name: 'mobile_owner', password: PASSWORD })).toMatchObject({ ok: true, data: { user_id: user.id } });
  });

  it('logs in again by mobile while it still holds its previous token, as the SDK does', async () => {
    const client = sdk();
    const first = await client.login('/token/user', { mobile: '13800138000', password: PASSWORD });
    expect(first.ok).toBe(true);
    const again = await client.login('/token/user', { mobile: '13800138000', password: PASSWORD });
    expect(again).toMatchObject({ ok: true, data: { user_id: user.id } });
  });

  it('answers a wrong password and an unknown mobile number alike, with 10101', async () => {
    expect(await sdk().login('/token/user', { mobile: '13800138000', password: 'not the password' })).toEqual({
      ok: false,
      code: 10101,
      message: expect.any(String),
    });
    const unknown = await sdk().login('/token/user', { mobile: '13900139000', password: PASSWORD });
    expect(unknown).toMatchObject({ ok: false, code: 10101 });
  });

  it.each([
    ['both name and mobile', { name: 'mobile_owner', mobile: '13800138000', password: PASSWORD }, /name.*mobile/],
    ['neither name nor mobile', { password: PASSWORD }, /name or mobile is required/],
    ['a mobile that is no phone number', { mobile: 'mobile_owner', password: PASSWORD }, /mobile is not a valid phone number/],
    ['a mobile that is not a string', { mobile: 13800138000, password: PASSWORD }, /mobile must be a string/],
  ])('answers %s with 10002 naming the fields', async (_label, body, message) => {
    const client = sdk();
    expect(await client.login('/token/user', body)).toEqual({ ok: false, code: 10002, message: expect.stringMatching(message) });
    expect(client.token).toBeUndefined();
  });
});
