/**
 * Reads and changes a user's registered devices (LoginRecorder creates them at login). Methods
 * that change a device take the caller's transaction, since each change goes together with
 * revoking the device's sessions.
 */
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { DeviceEntity } from './device.entity';
import { newOpaqueToken } from '../crypto/random-ids';

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

  /** All the user's devices, locked until the transaction ends. */
  lockAll(manager: EntityManager, appId: string, userId: number): Promise<DeviceEntity[]> {
    return manager.find(DeviceEntity, { where: { appId, userId }, order: { deviceSn: 'ASC' }, lock: { mode: 'pessimistic_write' } });
  }

  /** Forgets a device, and its push token with it. Its sessions stay, unbound (revoke them first). */
  async remove(manager: EntityManager, device: DeviceEntity): Promise<void> {
    await manager.delete(DeviceEntity, { id: device.id });
  }

  /**
   * Gives the device a fresh push token, so that the old one stops reaching it; the device keeps
   * its row and device_sn, and its next login returns the new token.
   */
  async replacePushToken(manager: EntityManager, device: DeviceEntity): Promise<string> {
    const pushToken = newOpaqueToken('psh', 24);
    await manager.update(DeviceEntity, { id: device.id }, { pushToken });
    return pushToken;
  }
}
