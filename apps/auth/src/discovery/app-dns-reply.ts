/**
 * The discovery reply of the platform's DNS service, which its SDKs read at start-up to learn
 * where the HTTP API (`ratel`), the IM socket (`webim`) and the RTC server (`rtc`) are. Each
 * server is `{protocol, host, ip_list}`; an SDK joins `protocol://host` (and turns https into
 * wss itself for a socket), so a URL's path, if any, goes into `host`.
 */
import { createHash } from 'node:crypto';
import type { SdkDiscoveryUrls } from '@app/config';
import type { AppDnsReply, ServerAddress, ServerCluster } from './app-dns.dto';

export function appDnsReply(urls: SdkDiscoveryUrls): AppDnsReply {
  const cluster: ServerCluster = {
    ratel: [serverAddress(urls.publicUrl)],
    webim: urls.webimUrls.map(serverAddress),
    rtc: urls.rtcUrls.map(serverAddress),
  };
  return {
    version: createHash('sha256').update(JSON.stringify(cluster)).digest().readUInt32BE(0),
    app_status: 'normal',
    dns_server_list: [],
    link_server_list: [],
    dns_list: [{ group_level: 0, clusters: [cluster] }],
  };
}

/** An http(s) URL as the SDK wants it; the configuration has checked its shape. */
function serverAddress(url: string): ServerAddress {
  const parsed = new URL(url);
  return {
    protocol: parsed.protocol === 'https:' ? 'https' : 'http',
    host: `${parsed.host}${parsed.pathname}`.replace(/\/+$/, ''),
    ip_list: [],
  };
}
