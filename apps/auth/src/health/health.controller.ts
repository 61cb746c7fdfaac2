import { Controller, Get, HttpCode } from '@nestjs/common';
import { ApiError } from '@app/contract';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Access } from '../http/route-access';

/** Liveness and readiness for orchestrators; no app_id needed. */
@ApiTags('health')
@Access('none')
@Controller('health')
export class HealthController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @Get('live')
  @ApiOperation({ summary: 'The process is up' })
  live(): { status: 'up' } {
    return { status: 'up' };
  }

  @Get('ready')
  @HttpCode(200)
  @ApiOperation({ summary: 'The database answers' })
  async ready(): Promise<{ status: 'up'; database: 'up' }> {
    try {
      await this.dataSource.query('SELECT 1');
    } catch {
      throw new ApiError('DATABASE_UNAVAILABLE', 'database is down');
    }
    return { status: 'up', database: 'up' };
  }
}
