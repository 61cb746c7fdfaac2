import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeviceEntity } from './device.entity';
import { DeviceRegistry } from './device-registry';

/** A user's registered devices, for the account endpoints (logins write them through LoginRecorder). */
@Module({
  imports: [TypeOrmModule.forFeature([DeviceEntity])],
  providers: [DeviceRegistry],
  exports: [DeviceRegistry],
})
export class DevicesModule {}
