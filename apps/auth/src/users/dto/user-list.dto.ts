import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsDefined, IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsUserIdField } from '../../http/user-id.validators';

export class UserIdListDto {
  @ApiProperty({ type: [Number], example: [2302128618880], maxItems: 1000 })
  @IsDefined({ message: 'list is required' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsUserIdField({ each: true })
  list!: number[];
}

export class UserPageQuery {
  @ApiPropertyOptional({ default: 1, minimum: 1, maximum: 1_000_000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page_num: number = 1;

  @ApiPropertyOptional({ default: 20, minimum: 1, maximum: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  page_size: number = 20;
}
