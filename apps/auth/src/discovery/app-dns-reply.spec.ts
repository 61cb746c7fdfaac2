import { appDnsReply } from './app-dns-reply';

describe('appDnsReply', () => {
  const urls = { publicUrl: 'https://chat.example.com/auth', webimUrls: ['https://im.example.com:8443'], rtcUrls: ['http://rtc.internal'] };

  it('lists each URL as {protocol, host, ip_list}, the path inside host, so protocol://host is the URL again', () => {
    const [cluster] = appDnsReply(urls).dns_list[0].clusters;
    expect(cluster).toEqual({
      ratel: [{ protocol: 'https', host: 'chat.example.com/auth', ip_list: [] }],
      webim: [{ protocol: 'https', host: 'im.example.com:8443', ip_list: [] }],
      rtc: [{ protocol: 'http', host: 'rtc.internal', ip_list: [] }],
    });
    expect(`${cluster.ratel[0].protocol}://${cluster.ratel[0].host}`).toBe(urls.publicUrl);
  });

  it('answers one group of level 0 with one cluster, the app normal and no other servers', () => {
    expect(appDnsReply(urls)).toMatchObject({ app_status: 'normal', dns_server_list: [], link_server_list: [], dns_list: [{ group_level: 0 }] });
    expect(appDnsReply(urls).dns_list[0].clusters).toHaveLength(1);
  });

  it('changes its version when an address changes, and only then', () => {
    const version = appDnsReply(urls).version;
    expect(Number.isInteger(version)).toBe(true);
    expect(appDnsReply({ ...urls }).version).toBe(version);
    expect(appDnsReply({ ...urls, rtcUrls: ['http://rtc2.internal'] }).version).not.toBe(version);
  });
});
