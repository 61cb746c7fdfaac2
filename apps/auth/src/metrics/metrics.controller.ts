import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Registry } from 'prom-client';
import { NoAppRoute } from '../callers/route-access';
import { RawReply } from '../http/raw-reply.decorator';
import { AuthMetrics } from './auth-metrics';

/** Prometheus' scrape endpoint: bare text, without our envelope; no app_id needed. */
@ApiTags('health')
@NoAppRoute()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: AuthMetrics) {}

  @Get()
  @RawReply()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Metrics in Prometheus text format', description: 'Not wrapped in the envelope. Off with METRICS_ENABLED=false.' })
  @ApiProduces(Registry.PROMETHEUS_CONTENT_TYPE)
  @ApiOkResponse({ description: 'The metrics, in Prometheus text exposition format', schema: { type: 'string' } })
  scrape(): Promise<string> {
    return this.metrics.scrape();
  }
}
