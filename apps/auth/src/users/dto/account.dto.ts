/**
 * Bodies and queries of the user's own endpoints (account.controller.ts). Lengths here only stop
 * absurd input early: the password policy (../password-policy.ts) has the real limits.
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsInt, IsNotEmpty, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

const PASSWORD_FIELD_MAX = 4096;
/** device_sn is the platform's int32. */
const DEVICE_SN_MAX = 2 ** 31 - 1;

export class ChangePasswordDto {
  @ApiProperty({ example: 'correct horse battery', format: 'password', description: 'The current password' })
  @IsDefined({ message: 'old_password is required' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(PASSWORD_FIELD_MAX)
  old_password!: string;

  @ApiProperty({ example: 'battery staple horse', format: 'password', description: "At least the app's minimum length" })
  @IsDefined({ message: 'new_password is required' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(PASSWORD_FIELD_MAX)
  new_password!: string;
}

export class SetPasswordDto {
  @ApiProperty({ example: 'battery staple horse', format: 'password', description: "The new password: at least the app's minimum length" })
  @IsDefined({ message: 'password is required' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(PASSWORD_FIELD_MAX)
  password!: string;
}

export class DeleteUserDto {
  @ApiPropertyOptional({ example: 'correct horse battery', format: 'password', description: "The user's password: required with the user's own token, ignored with an admin token" })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(PASSWORD_FIELD_MAX)
  password?: string;
}

export class DeviceSnQuery {
  @ApiProperty({ example: 1, minimum: 1, maximum: DEVICE_SN_MAX, description: "The device's serial number (GET /user/device/list)" })
  @IsDefined({ message: 'device_sn is required' })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(DEVICE_SN_MAX)
  device_sn!: number;
}

export class OptionalDeviceSnQuery {
  @ApiPropertyOptional({ example: 1, minimum: 1, maximum: DEVICE_SN_MAX, description: 'One device; absent: every device of the user' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(DEVICE_SN_MAX)
  device_sn?: number;
}
