import { Module } from '@nestjs/common';
import { AppDnsController } from './app-dns.controller';

/** `GET /app_dns`: how the platform's SDKs find this service. */
@Module({ controllers: [AppDnsController] })
export class DiscoveryModule {}
