import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiError } from '@app/contract';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { appDnsReply } from './app-dns-reply';
import { AppDnsQuery, AppDnsReply } from './app-dns.dto';
import { ApiEnvelope } from '../http/api-docs';
import { AnonymousRoute } from '../callers/route-access';
import { Tenant } from '../callers/resolved-request';
import type { AppEntity } from '../tenants/app.entity';

/**
 * Lets the platform's SDKs find this service with no other server: an app sets the SDK's
 * `dnsServer` to `<PUBLIC_URL>/app_dns`, and the SDK fetches it (`?app_id=...` and the `app_id`
 * header) and takes its API, IM socket and RTC addresses from the reply. AppGuard has resolved
 * the app by then: unknown or disabled is the platform's 40000.
 */
@ApiTags('sdk')
@Controller('app_dns')
export class AppDnsController {
  private readonly reply: AppDnsReply;

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    this.reply = appDnsReply(config.sdkDiscovery);
  }

  @Get()
  @ApiOperation({
    summary: "The SDKs' discovery reply: where the API, the IM socket and the RTC servers are",
    description: 'ratel is PUBLIC_URL; webim and rtc are WEBIM_URLS and RTC_URLS. Any access-token sent along is ignored.',
  })
  @ApiEnvelope(AppDnsReply)
  @AnonymousRoute()
  appDns(@Tenant() app: AppEntity, @Query() query: AppDnsQuery): AppDnsReply {
    if (query.app_id !== undefined && query.app_id !== app.id) {
      throw new ApiError('BAD_PARAMETER', 'app_id in the query is not the app_id header');
    }
    return this.reply;
  }
}
