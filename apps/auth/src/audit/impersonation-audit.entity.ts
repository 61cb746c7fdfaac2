import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Relation } from 'typeorm';
import { int64Number } from '@app/persistence';
import { AppEntity } from '../tenants/app.entity';

/** One impersonated call: who really called, as whom, what, when and from where. */
@Entity({ name: 'impersonation_audit' })
@Check('impersonation_audit_caller_kind_check', "caller_kind IN ('admin', 'user')")
@Index('impersonation_audit_acting_user_idx', ['appId', 'actingUserId', 'at'])
export class ImpersonationAuditEntity {
  @PrimaryColumn({ type: 'bigint', transformer: int64Number, insert: false, update: false, generated: 'identity', generatedIdentity: 'ALWAYS' })
  id!: number;

  @Column({ name: 'app_id', type: 'varchar', length: 32 })
  appId!: string;

  @Column({ name: 'caller_kind', type: 'varchar', length: 8 })
  callerKind!: 'admin' | 'user';

  /** The admin token's id, or the user's id. */
  @Column({ name: 'caller_id', type: 'varchar', length: 64 })
  callerId!: string;

  @Column({ name: 'acting_user_id', type: 'bigint', nullable: true, transformer: int64Number })
  actingUserId!: number | null;

  @Column({ name: 'acting_group_id', type: 'bigint', nullable: true })
  actingGroupId!: string | null;

  @Column({ type: 'varchar', length: 8 })
  method!: string;

  @Column({ type: 'varchar', length: 256 })
  path!: string;

  @Column({ name: 'client_ip', type: 'varchar', length: 64, nullable: true })
  clientIp!: string | null;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at!: Date;

  /** Declares the foreign key only. */
  @ManyToOne(() => AppEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'app_id', foreignKeyConstraintName: 'impersonation_audit_app_id_fkey' })
  app?: Relation<AppEntity>;
}
