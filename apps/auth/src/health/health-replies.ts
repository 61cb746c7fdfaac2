import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class LivenessReply {
  @ApiProperty({ enum: ['up'], example: 'up' })
  status!: 'up';
}

export class ReadinessReply extends LivenessReply {
  @ApiProperty({ enum: ['up'], example: 'up', description: 'The database answered' })
  database!: 'up';

  @ApiPropertyOptional({
    enum: ['up', 'down'],
    example: 'up',
    description: 'With REDIS_URL only: whether Redis answers. While it is down the login throttle counts in PostgreSQL and the service stays ready',
  })
  redis?: 'up' | 'down';
}
