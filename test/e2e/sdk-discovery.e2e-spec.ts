/**
 * `GET /app_dns`, the discovery reply the platform's SDKs fetch from their `dnsServer` (the URL as
 * is, with `?app_id=&source=` and the `app_id` header) before anything else. The test reads the
 * reply as the web SDK does: the group of level 0, its first cluster, `protocol://host` of the
 * first `ratel`, `webim` and `rtc`; then it signs in through the `ratel` it found.
 *
 * Two services share the run's database: `dns` answers the discovery with `api` as its public URL
 * (as a deployment names the address clients reach), so a sign-in through `ratel` proves the
 * address is the one the SDK needs.
 */
import { PlatformSdkClient } from '../support/platform-sdk-client';
import { TestService, type TestApp } from '../support/test-service';
import { TenantsService } from '../../apps/auth/src/tenants/tenants.service';
import { AppStatus } from '../../apps/auth/src/tenants/app.entity';

const PASSWORD = 'correct horse battery';

describe('GET /app_dns, as the SDKs read it', () => {
  let api: TestService;
  let dns: TestService;
  let tenant: TestApp;

  beforeAll(async () => {
    api = await TestService.start({ ERROR_HTTP_STATUS: '200' });
    dns = await TestService.start({
      ERROR_HTTP_STATUS: '200',
      PUBLIC_URL: `${api.baseUrl}/`,
      WEBIM_URLS: 'https://im.example.com:8443',
      RTC_URLS: 'https://media.example.com/rtc/',
    });
    tenant = await api.createApp();
    await api.createUser(tenant.app, { username: 'found_us' });
  });
  // Together: Passport's strategies are process-wide (see TestService).
  afterAll(() => Promise.all([dns.close(), api.close()]));

  /** What the SDK does with `flooim({appid, dnsServer: '<dns>/app_dns'})`. */
  const discover = (appId: string, client = new PlatformSdkClient(dns.baseUrl, appId)) => client.get('/app_dns', { app_id: appId, source: 'web' });

  /** `protocol://host` of the first server of each kind in the group of level 0, as the SDK joins them. */
  function serversOf(data: any): { ratel: string; webim: string; rtc: string } {
    const group = data.dns_list.find((candidate: any) => candidate.group_level == 0);
    const cluster = group.clusters[0];
    const join = (server: any) => `${server.protocol}://${server.host}`;
    return { ratel: join(cluster.ratel[0]), webim: join(cluster.webim[0]), rtc: join(cluster.rtc[0]) };
  }

  it('names this service as ratel and the configured IM socket and RTC servers, in the platform’s shape', async () => {
    const reply = await discover(tenant.app.id);
    const [, host] = api.baseUrl.split('://');
    expect(reply).toEqual({
      ok: true,
      data: {
        version: expect.any(Number),
        app_status: 'normal',
        dns_server_list: [],
        link_server_list: [],
        dns_list: [
          {
            group_level: 0,
            clusters: [
              {
                ratel: [{ protocol: 'http', host, ip_list: [] }],
                webim: [{ protocol: 'https', host: 'im.example.com:8443', ip_list: [] }],
                rtc: [{ protocol: 'https', host: 'media.example.com/rtc', ip_list: [] }],
              },
            ],
          },
        ],
      },
    });
  });

  it('lets the SDK sign in and call through the ratel it found', async () => {
    const reply = await discover(tenant.app.id);
    if (!reply.ok) throw new Error(`discovery failed: ${JSON.stringify(reply)}`);
    const servers = serversOf(reply.data);
    expect(servers).toEqual({ ratel: api.baseUrl, webim: 'https://im.example.com:8443', rtc: 'https://media.example.com/rtc' });

    const client = new PlatformSdkClient(servers.ratel, tenant.app.id);
    expect(await client.login('/token/user', { name: 'found_us', password: PASSWORD })).toMatchObject({ ok: true });
    expect(await client.get('/user/device/list')).toEqual({ ok: true, data: [] });
  });

  it('answers an SDK that still holds a token, even a dead one, as any other', async () => {
    const client = new PlatformSdkClient(dns.baseUrl, tenant.app.id);
    client.token = 'a.stale.token';
    expect(await discover(tenant.app.id, client)).toMatchObject({ ok: true, data: { app_status: 'normal' } });
  });

  it('answers an unknown app and a disabled one with the platform’s 40000', async () => {
    expect(await discover('no_such_app')).toMatchObject({ ok: false, code: 40000 });
    const disabled = await api.createApp();
    await api.nest.get(TenantsService).update(disabled.app.id, { status: AppStatus.Disabled });
    expect(await discover(disabled.app.id)).toMatchObject({ ok: false, code: 40000 });
  });

  it('answers 10002 when the query names another app than the header', async () => {
    const other = await api.createApp();
    const reply = await dns.call('GET', `/app_dns?app_id=${other.app.id}`, { appId: tenant.app.id });
    expect({ status: reply.status, code: reply.body.code }).toEqual({ status: 200, code: 10002 });
  });
});
