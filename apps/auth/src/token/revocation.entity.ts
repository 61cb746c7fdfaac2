import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Relation } from 'typeorm';
import { int64Number } from '@app/persistence';
import { AppEntity } from '../tenants/app.entity';

/**
 * The revocation log: every revoked token's jti, in order, so services that verify tokens locally
 * can follow their app's revocations by polling what came after the last `seq` they saw.
 */
@Entity({ name: 'revocation' })
@Index('revocation_expires_idx', ['expiresAt'])
@Index('revocation_app_seq_idx', ['appId', 'seq'])
export class RevocationEntity {
  @PrimaryColumn({ type: 'bigint', transformer: int64Number, insert: false, update: false, generated: 'identity', generatedIdentity: 'ALWAYS' })
  seq!: number;

  @Column({ name: 'app_id', type: 'varchar', length: 32 })
  appId!: string;

  /** Declares the foreign key only; code reads and writes `appId`. */
  @ManyToOne(() => AppEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'app_id', foreignKeyConstraintName: 'revocation_app_id_fkey' })
  app?: Relation<AppEntity>;

  @Column({ type: 'uuid' })
  jti!: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', default: () => 'now()' })
  revokedAt!: Date;
}
