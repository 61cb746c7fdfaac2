/** Bodies and queries of binding a vendor push token to a device (vendor-push.controller.ts). */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { ApiError } from '@app/contract';
import { DEVICE_SN_MAX, IsDeviceSnField } from '../device-sn.field';

/** Vendor tokens are ASCII (APNs: hex; FCM and the phone makers': base64url-like, up to a few hundred characters). */
const VENDOR_TOKEN = /^[\x21-\x7e]+$/;
/** A name the app gave its push credentials: any text without control characters. */
const NOTIFIER_NAME = /^[^\p{Cc}]+$/u;

export class BindVendorPushTokenDto {
  @ApiProperty({ example: 1, minimum: 1, maximum: DEVICE_SN_MAX, description: "The device's serial number (the token's device_sn, or GET /user/device/list)" })
  @IsDefined({ message: 'device_sn is required' })
  @IsDeviceSnField()
  device_sn!: number;

  @ApiProperty({ example: '740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad', maxLength: 512, description: "The vendor's push token of the device (APNs, FCM, a phone maker's)" })
  @IsDefined({ message: 'device_token is required' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  @Matches(VENDOR_TOKEN, { message: 'device_token must be printable ASCII without spaces' })
  device_token!: string;

  @ApiProperty({ example: 'apns-production', maxLength: 128, description: "The name of the app's push credentials (certificate) that push with this token" })
  @IsDefined({ message: 'notifier_name is required' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  @Matches(NOTIFIER_NAME, { message: 'notifier_name must not contain control characters' })
  notifier_name!: string;
}

export class UnbindVendorPushTokenQuery {
  @ApiPropertyOptional({ example: 1, minimum: 1, maximum: DEVICE_SN_MAX, description: "The device to unbind; absent: the calling token's own device" })
  @IsOptional()
  @IsDeviceSnField()
  device_sn?: number;

  @ApiPropertyOptional({ example: 1, minimum: 1, maximum: DEVICE_SN_MAX, description: "device_sn under the name the platform's web SDK documents for unbinding" })
  @IsOptional()
  @IsDeviceSnField()
  deviceSn?: number;

  /** The device named, under either name (both: they must agree); undefined when none is. */
  deviceSnNamed(): number | undefined {
    const snake = this.device_sn ?? undefined;
    const camel = this.deviceSn ?? undefined;
    if (snake !== undefined && camel !== undefined && snake !== camel) {
      throw new ApiError('BAD_PARAMETER', `device_sn is ${snake} but deviceSn is ${camel}`);
    }
    return snake ?? camel;
  }
}
