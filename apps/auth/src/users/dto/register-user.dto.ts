import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsDefined, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';

/** Field lengths here only stop absurd input early; the real rules live in identifiers.ts. */
export class RegisterUserDto {
  @ApiProperty({ example: 'alice_01', description: 'Letters, digits, underscore, CJK; not all digits; no @; at most 64' })
  @IsDefined({ message: 'username is required' })
  @IsString()
  @MaxLength(256)
  username!: string;

  @ApiProperty({ example: 'correct horse battery', description: "At least the app's minimum length", format: 'password' })
  @IsDefined({ message: 'password is required' })
  @IsString()
  @MaxLength(4096)
  password!: string;

  @ApiPropertyOptional({ example: '+8613800138000', description: "E.164, or national form in the app's default region" })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  mobile?: string;

  @ApiPropertyOptional({ example: 'alice@example.com' })
  @IsOptional()
  @IsString()
  @MaxLength(320)
  email?: string;
}

export const BATCH_MAX_USERS = 100;

export class RegisterBatchDto {
  @ApiProperty({ type: [RegisterUserDto], maxItems: BATCH_MAX_USERS })
  @IsDefined({ message: 'list is required' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(BATCH_MAX_USERS)
  @ValidateNested({ each: true })
  @Type(() => RegisterUserDto)
  list!: RegisterUserDto[];
}
