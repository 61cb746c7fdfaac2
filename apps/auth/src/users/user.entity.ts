import { Check, Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn, Unique, UpdateDateColumn } from 'typeorm';
import type { Relation } from 'typeorm';
import { int64Number } from '@app/persistence';
import { AppEntity } from '../tenants/app.entity';

export enum UserStatus {
  Normal = 0,
  Banned = 1,
}

/**
 * A user of one app. Each identifier is unique within the app by a database constraint;
 * `username_key` is the normalized, case-folded form that uniqueness and look-ups use.
 */
@Entity({ name: 'app_user' })
@Check('app_user_id_check', 'id > 0 AND id < 9007199254740992')
@Check('user_has_identifier', 'username_key IS NOT NULL OR mobile IS NOT NULL OR email IS NOT NULL')
@Unique('user_username_unique', ['appId', 'usernameKey'])
@Unique('user_mobile_unique', ['appId', 'mobile'])
@Unique('user_email_unique', ['appId', 'email'])
export class UserEntity {
  /** Random, below 2^53: unguessable and exact as a JSON number. */
  @PrimaryColumn({ type: 'bigint', transformer: int64Number })
  id!: number;

  @Column({ name: 'app_id', type: 'varchar', length: 32 })
  appId!: string;

  /** Declares the foreign key only; code reads and writes `appId`. */
  @ManyToOne(() => AppEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'app_id', foreignKeyConstraintName: 'app_user_app_id_fkey' })
  app?: Relation<AppEntity>;

  /** As registered (NFKC-normalized). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  username!: string | null;

  @Column({ name: 'username_key', type: 'varchar', length: 64, nullable: true })
  usernameKey!: string | null;

  /** E.164. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  mobile!: string | null;

  /** Lower-cased. */
  @Column({ type: 'varchar', length: 254, nullable: true })
  email!: string | null;

  /** PHC string (argon2id, or bcrypt for users imported from elsewhere until their next login). */
  @Column({ name: 'password_hash', type: 'text' })
  passwordHash!: string;

  @Column({ type: 'smallint', default: UserStatus.Normal })
  status!: UserStatus;

  /**
   * Moves with every change to the user's standing: a password set or changed, a ban, a sign-out
   * of every device. A login reads it before hashing and writes its session only while it is
   * unchanged (token/login-recorder.ts), so no login in flight outlives such a change.
   */
  @Column({ name: 'security_stamp', type: 'integer', default: 0 })
  securityStamp!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
