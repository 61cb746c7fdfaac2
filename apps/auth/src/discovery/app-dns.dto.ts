/** The query and the reply of `GET /app_dns` (app-dns.controller.ts), in the platform's shape. */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class AppDnsQuery {
  @ApiPropertyOptional({ example: 'k3x9q0v2m8w1r7t5y4u6', description: 'As the SDK sends it; must be the app_id header' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  app_id?: string;

  @ApiPropertyOptional({ description: 'Sent by some SDKs; not used' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  source?: string;
}

export class ServerAddress {
  @ApiProperty({ enum: ['http', 'https'], example: 'https' })
  protocol!: 'http' | 'https';

  @ApiProperty({ example: 'im-auth.example.com', description: 'Host, port and path: the SDK calls protocol://host' })
  host!: string;

  @ApiProperty({ type: [String], example: [], description: 'Addresses to try without DNS: none given' })
  ip_list!: string[];
}

export class ServerCluster {
  @ApiProperty({ type: [ServerAddress], description: 'The HTTP API: this service (PUBLIC_URL)' })
  ratel!: ServerAddress[];

  @ApiProperty({ type: [ServerAddress], description: 'The IM socket servers (WEBIM_URLS)' })
  webim!: ServerAddress[];

  @ApiProperty({ type: [ServerAddress], description: 'The RTC servers (RTC_URLS)' })
  rtc!: ServerAddress[];
}

export class DnsGroup {
  @ApiProperty({ example: 0, description: 'The SDK uses the group of level 0' })
  group_level!: number;

  @ApiProperty({ type: [ServerCluster] })
  clusters!: ServerCluster[];
}

export class AppDnsReply {
  @ApiProperty({ example: 2831155526, description: 'Changes whenever the addresses do' })
  version!: number;

  @ApiProperty({ enum: ['normal'], description: 'An app that is disabled or unknown gets 40000 instead' })
  app_status!: 'normal';

  @ApiProperty({ type: [String], example: [], description: 'Other discovery servers: none' })
  dns_server_list!: string[];

  @ApiProperty({ type: [String], example: [], description: 'Link servers: none' })
  link_server_list!: string[];

  @ApiProperty({ type: [DnsGroup] })
  dns_list!: DnsGroup[];
}
