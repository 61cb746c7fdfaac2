import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeviceEntity } from './device.entity';
import { DeviceRegistry } from './device-registry';
import { VendorPushBindings } from './vendor-push-bindings';
import { VendorPushController } from './vendor-push.controller';
import { SessionsModule } from '../sessions/sessions.module';

/**
 * A user's registered devices, for the account endpoints (logins write them through LoginRecorder),
 * and the vendor push tokens bound to them.
 */
@Module({
  imports: [TypeOrmModule.forFeature([DeviceEntity]), SessionsModule],
  controllers: [VendorPushController],
  providers: [DeviceRegistry, VendorPushBindings],
  exports: [DeviceRegistry],
})
export class DevicesModule {}
