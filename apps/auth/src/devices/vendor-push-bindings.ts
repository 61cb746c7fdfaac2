/**
 * Binding a device's vendor push token (APNs, FCM, a phone maker's) and unbinding it, for
 * `POST /user/token/bind` and `/user/token/unbind`: the binding lives on the device row, where
 * kick, device removal, ban and account deletion drop it (DeviceRegistry).
 *
 * A bind locks the device, then re-checks that the calling session is still live: a kick or a ban
 * that signs the device out while the bind is on its way either commits first (the bind then
 * finds its session revoked: 10008) or waits for the bind's lock and clears what it wrote. So a
 * signed-out device never keeps a binding. An admin caller has no session to re-check.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ApiError } from '@app/contract';
import { uniqueViolation } from '@app/persistence';
import { DeviceRegistry, type VendorPushBinding } from './device-registry';
import type { DeviceEntity } from './device.entity';
import { SessionRevoker } from '../sessions/session-revoker';
import { actingUserId, asSelf } from '../users/account-access';
import type { Principal } from '../callers/principal';
import type { AppEntity } from '../tenants/app.entity';

/** Two binds of one token racing: the loser's transaction runs again and takes the token over. */
const MAX_ATTEMPTS = 3;

@Injectable()
export class VendorPushBindings {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly devices: DeviceRegistry,
    private readonly sessions: SessionRevoker,
  ) {}

  /** Binds the token to the user's device `deviceSn`, taking it from any other device of the app. */
  async bind(app: AppEntity, principal: Principal, deviceSn: number, binding: VendorPushBinding): Promise<void> {
    const userId = actingUserId(principal);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.dataSource.transaction(async (manager) => {
          const device = await this.devices.lockOne(manager, app.id, userId, deviceSn);
          if (!device) throw new ApiError('BAD_PARAMETER', `no device with device_sn ${deviceSn}`);
          if (principal.caller.kind === 'user' && !(await this.sessions.liveSessionDevice(principal.caller.jti, manager))) {
            throw new ApiError('ACCESS_TOKEN_INVALID', 'access-token was revoked');
          }
          await this.devices.bindVendorPushToken(manager, device, binding);
        });
        return;
      } catch (error) {
        if (uniqueViolation(error) !== 'device_vendor_push_token_unique' || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  /** Drops the binding of the user's device `deviceSn`, or, without one, of the calling token's own device. */
  async unbind(app: AppEntity, principal: Principal, deviceSn: number | undefined): Promise<void> {
    const userId = actingUserId(principal);
    await this.dataSource.transaction(async (manager) => {
      const device =
        deviceSn === undefined ? await this.lockCallersDevice(manager, app, principal) : await this.devices.lockOne(manager, app.id, userId, deviceSn);
      if (!device) throw new ApiError('BAD_PARAMETER', `no device with device_sn ${deviceSn}`);
      await this.devices.unbindVendorPushToken(manager, device);
    });
  }

  private async lockCallersDevice(manager: EntityManager, app: AppEntity, principal: Principal): Promise<DeviceEntity | null> {
    const self = asSelf(principal);
    if (!self) throw new ApiError('BAD_PARAMETER', 'device_sn is required when acting for a user');
    const session = await this.sessions.liveSessionDevice(self.jti, manager);
    if (!session?.deviceId) throw new ApiError('BAD_PARAMETER', 'device_sn is required: this access-token was issued without a device');
    // The session's device_id is only ever one of its user's devices; the user check is a courtesy.
    const device = await this.devices.lockById(manager, app.id, self.userId, session.deviceId);
    if (!device) throw new ApiError('BAD_PARAMETER', 'device_sn is required: the device of this access-token was removed');
    return device;
  }
}
