import { ApiProperty } from '@nestjs/swagger';

export class LivenessReply {
  @ApiProperty({ enum: ['up'], example: 'up' })
  status!: 'up';
}

export class ReadinessReply extends LivenessReply {
  @ApiProperty({ enum: ['up'], example: 'up', description: 'The database answered' })
  database!: 'up';
}
