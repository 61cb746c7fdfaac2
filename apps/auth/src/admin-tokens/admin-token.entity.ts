import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, Unique } from 'typeorm';
import type { Relation } from 'typeorm';
import { AppEntity } from '../tenants/app.entity';

export type AdminTokenScope = 'admin' | 'verifier';

/** An operator's token for one app. Only its SHA-256 is stored: a database leak yields no usable token. */
@Entity({ name: 'admin_token' })
@Unique('admin_token_hash_unique', ['tokenHash'])
@Index('admin_token_app_idx', ['appId'])
export class AdminTokenEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'app_id', type: 'varchar', length: 32 })
  appId!: string;

  /** Declares the foreign key only; code reads and writes `appId`. */
  @ManyToOne(() => AppEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'app_id', foreignKeyConstraintName: 'admin_token_app_id_fkey' })
  app?: Relation<AppEntity>;

  /** Hex SHA-256 of the token. */
  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash!: string;

  @Column({ type: 'text', nullable: true })
  label!: string | null;

  /** `admin`: every admin route; `verifier`: only the revocation log and introspection (admin-tokens.service.ts). */
  @Column({ type: 'varchar', length: 16, default: 'admin' })
  scope!: AdminTokenScope;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
