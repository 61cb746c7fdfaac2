import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { Relation } from 'typeorm';
import { int64Number } from '@app/persistence';
import { AppEntity } from '../tenants/app.entity';
import { UserEntity } from '../users/user.entity';

/** A member's role in a group, as the group service reports it. */
export enum GroupRole {
  Member = 0,
  Admin = 1,
  Owner = 2,
}

/** A group known to this service: its id in the group service, per app. */
@Entity({ name: 'app_group' })
@Check('app_group_group_id_check', 'group_id > 0')
export class GroupEntity {
  @PrimaryColumn({ name: 'app_id', type: 'varchar', length: 32 })
  appId!: string;

  /** Kept as a decimal string: group ids are the group service's int64s. */
  @PrimaryColumn({ name: 'group_id', type: 'bigint' })
  groupId!: string;

  @Column({ name: 'synced_at', type: 'timestamptz', default: () => 'now()' })
  syncedAt!: Date;

  /** Declares the foreign key only. */
  @ManyToOne(() => AppEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'app_id', foreignKeyConstraintName: 'app_group_app_id_fkey' })
  app?: Relation<AppEntity>;
}

@Entity({ name: 'group_member' })
@Check('group_member_role_check', 'role IN (0, 1, 2)')
@Index('group_member_user_idx', ['appId', 'userId'])
export class GroupMemberEntity {
  @PrimaryColumn({ name: 'app_id', type: 'varchar', length: 32 })
  appId!: string;

  @PrimaryColumn({ name: 'group_id', type: 'bigint' })
  groupId!: string;

  @PrimaryColumn({ name: 'user_id', type: 'bigint', transformer: int64Number })
  userId!: number;

  @Column({ type: 'smallint' })
  role!: GroupRole;

  /** Declares the foreign keys only. */
  @ManyToOne(() => GroupEntity, { onDelete: 'CASCADE' })
  @JoinColumn([
    { name: 'app_id', referencedColumnName: 'appId', foreignKeyConstraintName: 'group_member_group_fkey' },
    { name: 'group_id', referencedColumnName: 'groupId', foreignKeyConstraintName: 'group_member_group_fkey' },
  ])
  group?: Relation<GroupEntity>;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'group_member_user_id_fkey' })
  user?: Relation<UserEntity>;
}
