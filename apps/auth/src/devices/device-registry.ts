/**
 * Reads and changes a user's registered devices (LoginRecorder creates them at login). Methods
 * that change a device take the caller's transaction, since each change goes together with
 * revoking the device's sessions.
 *
 * Whatever signs a device out also drops its vendor push binding (kick, ban; removal and deletion
 * take the row with them), so a device that is signed out stops receiving real pushes.
 */
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Not, Repository } from 'typeorm';
import { DeviceEntity } from './device.entity';
import { newOpaqueToken } from '../crypto/random-ids';

/** A vendor push token and the name of the app's credentials that push with it. */
export interface VendorPushBinding {
  token: string;
  notifier: string;
}

const UNBOUND = { vendorPushToken: null, vendorPushNotifier: null, vendorPushBoundAt: null } as const;

@Injectable()
export class DeviceRegistry {
  constructor(@InjectRepository(DeviceEntity) private readonly devices: Repository<DeviceEntity>) {}

  /** A user's devices, by device_sn. */
  list(appId: string, userId: number): Promise<DeviceEntity[]> {
    return this.devices.find({ where: { appId, userId }, order: { deviceSn: 'ASC' } });
  }

  /** The user's device with this serial number, locked until the transaction ends; null when none. */
  lockOne(manager: EntityManager, appId: string, userId: number, deviceSn: number): Promise<DeviceEntity | null> {
    return manager.findOne(DeviceEntity, { where: { appId, userId, deviceSn }, lock: { mode: 'pessimistic_write' } });
  }

  /** The user's device with this id (a session's device), locked until the transaction ends; null when none. */
  lockById(manager: EntityManager, appId: string, userId: number, id: number): Promise<DeviceEntity | null> {
    return manager.findOne(DeviceEntity, { where: { appId, userId, id }, lock: { mode: 'pessimistic_write' } });
  }

  /** All the user's devices, locked until the transaction ends. */
  lockAll(manager: EntityManager, appId: string, userId: number): Promise<DeviceEntity[]> {
    return manager.find(DeviceEntity, { where: { appId, userId }, order: { deviceSn: 'ASC' }, lock: { mode: 'pessimistic_write' } });
  }

  /** Forgets a device, and its push token and vendor push binding with it. Its sessions stay, unbound (revoke them first). */
  async remove(manager: EntityManager, device: DeviceEntity): Promise<void> {
    await manager.delete(DeviceEntity, { id: device.id });
  }

  /**
   * Gives the device a fresh push token, so that the old one stops reaching it, and drops its
   * vendor push binding; the device keeps its row and device_sn, and its next login returns the
   * new token (the app binds its vendor token again after that login).
   */
  async replacePushToken(manager: EntityManager, device: DeviceEntity): Promise<string> {
    const pushToken = newOpaqueToken('psh', 24);
    await manager.update(DeviceEntity, { id: device.id }, { pushToken, ...UNBOUND });
    return pushToken;
  }

  /**
   * Drops the vendor push bindings of every device of these users but `keptDeviceId` (a ban, or a
   * password change, after it revoked their sessions: a signed-out device gets no more pushes; a
   * user who changes their own password keeps the binding of the device they did it from). It
   * writes every device concerned, bound or not, so it locks each: a bind that got a device first
   * is waited for and cleared, one that comes later finds its session revoked.
   */
  async unbindVendorPushTokensOf(manager: EntityManager, appId: string, userIds: number[], keptDeviceId?: number): Promise<void> {
    await manager.update(DeviceEntity, { appId, userId: In(userIds), ...(keptDeviceId === undefined ? {} : { id: Not(keptDeviceId) }) }, UNBOUND);
  }

  /**
   * Binds a vendor push token to a locked device. The token reaches one device of the app: bound
   * to another one (the phone changed accounts), it moves here. Two binds of one token racing each
   * other meet in device_vendor_push_token_unique; the caller retries the loser's transaction.
   */
  async bindVendorPushToken(manager: EntityManager, device: DeviceEntity, binding: VendorPushBinding): Promise<void> {
    await manager.update(DeviceEntity, { appId: device.appId, vendorPushToken: binding.token, id: Not(device.id) }, UNBOUND);
    await manager.update(
      DeviceEntity,
      { id: device.id },
      { vendorPushToken: binding.token, vendorPushNotifier: binding.notifier, vendorPushBoundAt: new Date() },
    );
  }

  /** Drops a locked device's vendor push binding (none: nothing changes). */
  async unbindVendorPushToken(manager: EntityManager, device: DeviceEntity): Promise<void> {
    await manager.update(DeviceEntity, { id: device.id }, UNBOUND);
  }
}
