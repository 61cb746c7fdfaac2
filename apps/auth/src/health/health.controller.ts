/**
 * Liveness and readiness for orchestrators; no app_id needed. Live: the process answers HTTP.
 * Ready: logins can be served. That needs the database: it must answer `SELECT 1` (terminus'
 * TypeORM ping) within DB_TIMEOUT_MS, the wait after which a request fails with 20000 anyway; else
 * 503 with code 20000 in our envelope, like any request that found the database down. It does not
 * need Redis (the login throttle counts in PostgreSQL while Redis is down), so with REDIS_URL set
 * the reply says how Redis is (`redis: "down"` while PostgreSQL stands in) and stays ready.
 */
import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { ApiError, ErrorCatalogue } from '@app/contract';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { NoAppRoute } from '../callers/route-access';
import { ApiEnvelope } from '../http/api-docs';
import { LivenessReply, ReadinessReply } from './health-replies';
import { THROTTLE_STORE, type ThrottleStore } from '../throttle/throttle-store';

const { DATABASE_UNAVAILABLE } = ErrorCatalogue;

@ApiTags('health')
@NoAppRoute()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    @Inject(THROTTLE_STORE) private readonly throttleStore: ThrottleStore,
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
  @ApiOperation({ summary: 'Logins can be served: the database answers (and how Redis is, when configured)' })
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
    const { redis } = this.throttleStore.status();
    return redis ? { status: 'up', database: 'up', redis } : { status: 'up', database: 'up' };
  }
}
