/**
 * `POST /token/revoke`: a user's own access token signs itself out. Its session is revoked and,
 * when the token was issued for a device, that device's vendor push binding is dropped with it: a
 * signed-out device gets no more pushes, as after a kick. The device is locked before the session
 * is revoked, the order a kick and a ban take them, so that neither can hold what the other waits for.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DeviceRegistry } from '../devices/device-registry';
import { SessionRevoker } from '../sessions/session-revoker';

@Injectable()
export class OwnTokenRevocation {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sessions: SessionRevoker,
    private readonly devices: DeviceRegistry,
  ) {}

  async revoke(appId: string, userId: number, jti: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const session = await this.sessions.liveSessionDevice(jti, manager);
      const device = session?.deviceId ? await this.devices.lockById(manager, appId, userId, session.deviceId) : null;
      await this.sessions.revoke({ appId, jti }, manager);
      if (device) await this.devices.unbindVendorPushToken(manager, device);
    });
  }
}
