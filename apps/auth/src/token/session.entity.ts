import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Relation } from 'typeorm';
import { int64Number } from '@app/persistence';
import { AppEntity } from '../tenants/app.entity';
import { UserEntity } from '../users/user.entity';
import { DeviceEntity } from '../devices/device.entity';

/** One issued access token (by its `jti`), so that a user's tokens can be listed and revoked. */
@Entity({ name: 'session' })
@Index('session_user_idx', ['userId', 'expiresAt'])
@Index('session_device_idx', ['deviceId'], { where: 'device_id IS NOT NULL' })
@Index('session_expires_idx', ['expiresAt'])
export class SessionEntity {
  @PrimaryColumn({ type: 'uuid' })
  jti!: string;

  @Column({ name: 'app_id', type: 'varchar', length: 32 })
  appId!: string;

  @Column({ name: 'user_id', type: 'bigint', transformer: int64Number })
  userId!: number;

  @Column({ name: 'device_id', type: 'bigint', nullable: true, transformer: int64Number })
  deviceId!: number | null;

  /** Declare the foreign keys only; code reads and writes `appId`, `userId` and `deviceId`. */
  @ManyToOne(() => AppEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'app_id', foreignKeyConstraintName: 'session_app_id_fkey' })
  app?: Relation<AppEntity>;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'session_user_id_fkey' })
  user?: Relation<UserEntity>;

  /** A removed device leaves its sessions, unbound, until they expire or are revoked. */
  @ManyToOne(() => DeviceEntity, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'device_id', foreignKeyConstraintName: 'session_device_id_fkey' })
  device?: Relation<DeviceEntity> | null;

  @Column({ name: 'issued_at', type: 'timestamptz' })
  issuedAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
