import { Column, Entity, PrimaryColumn } from 'typeorm';
import { int64Number } from '@app/persistence';

/** One issued access token (by its `jti`), so that a user's tokens can be listed and revoked. */
@Entity({ name: 'session' })
export class SessionEntity {
  @PrimaryColumn({ type: 'uuid' })
  jti!: string;

  @Column({ name: 'app_id', type: 'varchar', length: 32 })
  appId!: string;

  @Column({ name: 'user_id', type: 'bigint', transformer: int64Number })
  userId!: number;

  @Column({ name: 'device_id', type: 'bigint', nullable: true, transformer: int64Number })
  deviceId!: number | null;

  @Column({ name: 'issued_at', type: 'timestamptz' })
  issuedAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
