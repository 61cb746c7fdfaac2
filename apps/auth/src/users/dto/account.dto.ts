/**
 * Bodies and queries of the user's own endpoints (account.controller.ts). Lengths here only stop
 * absurd input early: the password policy (../password-policy.ts) has the real limits.
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsNotEmpty, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import { ApiError } from '@app/contract';
import { DEVICE_SN_MAX, IsDeviceSnField } from '../../devices/device-sn.field';

const PASSWORD_FIELD_MAX = 4096;

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

/** device_sn in the query, as the platform's server docs put it. */
export class DeviceSnQuery {
  @ApiPropertyOptional({ example: 1, minimum: 1, maximum: DEVICE_SN_MAX, description: "The device's serial number (GET /user/device/list); here or in the JSON body" })
  @IsOptional()
  @IsDeviceSnField()
  device_sn?: number;
}

/**
 * `{"device_sn": 2}`, as the platform's web SDK sends it. A null device_sn is refused rather than
 * read as absent: on a kick, absent means every device.
 */
export class DeviceSnBody {
  @ApiPropertyOptional({ example: 2, minimum: 1, maximum: DEVICE_SN_MAX, description: "The device's serial number (GET /user/device/list); here or in the query" })
  @ValidateIf((body: DeviceSnBody) => body.device_sn !== undefined)
  @IsDeviceSnField()
  device_sn?: number;
}

/**
 * The device_sn of a request that may carry it in the JSON body (the platform's web SDK) or the
 * query (the platform's server docs): either will do, both must agree. Undefined in neither.
 */
export function deviceSnOf(body: DeviceSnBody, query: DeviceSnQuery): number | undefined {
  const fromBody = body.device_sn;
  const fromQuery = query.device_sn ?? undefined;
  if (fromBody !== undefined && fromQuery !== undefined && fromBody !== fromQuery) {
    throw new ApiError('BAD_PARAMETER', `device_sn is ${fromBody} in the body but ${fromQuery} in the query`);
  }
  return fromBody ?? fromQuery;
}

/** As deviceSnOf, for the routes where device_sn is required. */
export function requiredDeviceSnOf(body: DeviceSnBody, query: DeviceSnQuery): number {
  const deviceSn = deviceSnOf(body, query);
  if (deviceSn === undefined) throw new ApiError('BAD_PARAMETER', 'device_sn is required');
  return deviceSn;
}
