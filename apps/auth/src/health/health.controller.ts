/**
 * Liveness and readiness for orchestrators; no app_id needed. Live: the process answers HTTP.
 * Ready: the database answers `SELECT 1` (terminus' TypeORM ping) within DB_TIMEOUT_MS, the wait
 * after which a request fails with 20000 anyway; else 503 with code 20000 in our envelope, like
 * any request that found the database down.
 */
import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { ApiError, ErrorCatalogue } from '@app/contract';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { Access } from '../http/route-access';
import { ApiEnvelope } from '../http/api-docs.decorators';
import { LivenessReply, ReadinessReply } from './health-replies';

const { DATABASE_UNAVAILABLE } = ErrorCatalogue;

@ApiTags('health')
@Access('none')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  @Get('live')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ summary: 'The process is up' })
  @ApiEnvelope(LivenessReply)
  live(): LivenessReply {
    return { status: 'up' };
  }

  @Get('ready')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ summary: 'The database answers' })
  @ApiEnvelope(ReadinessReply)
  @ApiServiceUnavailableResponse({
    description: `${DATABASE_UNAVAILABLE.code}: the database did not answer within DB_TIMEOUT_MS`,
    schema: { example: { code: DATABASE_UNAVAILABLE.code, message: 'database is down', data: null } },
  })
  async ready(): Promise<ReadinessReply> {
    try {
      await this.health.check([() => this.database.pingCheck('database', { timeout: this.config.dbTimeoutMs })]);
    } catch {
      // Terminus has logged the failed check, and would answer its own 503 body; ours is the envelope.
      throw new ApiError('DATABASE_UNAVAILABLE', 'database is down');
    }
    return { status: 'up', database: 'up' };
  }
}
