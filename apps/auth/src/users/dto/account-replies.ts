import { ApiProperty } from '@nestjs/swagger';
import { DevicePlatform, type DeviceEntity } from '../../devices/device.entity';
import type { AuditRowView } from '../account-access';

/** A device's vendor push binding, without the token itself. */
export class VendorPushBindingItem {
  @ApiProperty({ example: 'apns-production', description: "The name of the app's push credentials the token was bound with (notifier_name)" })
  notifier_name!: string;

  @ApiProperty({ example: 1764288000000, description: 'When it was bound, in milliseconds since the epoch' })
  bound_at!: number;
}

/** One of the user's devices, in the platform's shape, with its vendor push binding. */
export class DeviceListItem {
  @ApiProperty({ example: 1, description: "The device's serial number among the user's devices (int32)" })
  device_sn!: number;

  @ApiProperty({ enum: [0, 1, 2, 3, 4, 5, 6], example: DevicePlatform.Ios, description: '1 ios, 2 android, 3 windows, 4 mac, 5 linux, 6 web; 0 not recognized' })
  platform!: DevicePlatform;

  @ApiProperty({ example: 'IMClient/3.2 (iPhone; iOS 17.4; Scale/3.00)', nullable: true, type: String, description: 'As sent at its last login' })
  user_agent!: string | null;

  @ApiProperty({ example: 2302128618880 })
  user_id!: number;

  @ApiProperty({ type: VendorPushBindingItem, nullable: true, description: 'The vendor push token bound by POST /user/token/bind; null: none' })
  push_binding!: VendorPushBindingItem | null;

  static of(device: DeviceEntity): DeviceListItem {
    const bound = device.vendorPushNotifier !== null && device.vendorPushBoundAt !== null;
    return {
      device_sn: device.deviceSn,
      platform: device.platform,
      user_agent: device.userAgent,
      user_id: device.userId,
      push_binding: bound ? { notifier_name: device.vendorPushNotifier!, bound_at: device.vendorPushBoundAt!.getTime() } : null,
    };
  }
}

/** One call that acted as the user through an impersonation header. */
export class ImpersonationRecord {
  @ApiProperty({ enum: ['admin', 'user'], description: 'Who really called: an admin token, or a group owner or admin' })
  caller_kind!: 'admin' | 'user';

  @ApiProperty({
    example: '3f0c8a52-4d8e-4b7a-9f51-1c2e3d4f5a6b',
    nullable: true,
    type: String,
    description: "The admin token's id, or the calling user's id (as a string); null to a user reading it when a user called",
  })
  caller_id!: string | null;

  @ApiProperty({ example: 2302128618880, nullable: true, type: Number })
  acting_user_id!: number | null;

  @ApiProperty({ example: null, nullable: true, type: String, description: 'int64 as a decimal string' })
  acting_group_id!: string | null;

  @ApiProperty({ example: 'POST' })
  method!: string;

  @ApiProperty({ example: '/user/kick' })
  path!: string;

  @ApiProperty({ example: '203.0.113.7', nullable: true, type: String, description: "The caller's address; null to a user reading it (only an admin sees it)" })
  client_ip!: string | null;

  @ApiProperty({ example: 1764288000000, description: 'When, in milliseconds since the epoch (as `expire` in a token reply)' })
  at!: number;

  static of(row: AuditRowView): ImpersonationRecord {
    return {
      caller_kind: row.callerKind,
      caller_id: row.callerId,
      acting_user_id: row.actingUserId,
      acting_group_id: row.actingGroupId,
      method: row.method,
      path: row.path,
      client_ip: row.clientIp,
      at: row.at.getTime(),
    };
  }
}
