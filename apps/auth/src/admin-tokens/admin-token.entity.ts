import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** An operator's token for one app. Only its SHA-256 is stored: a database leak yields no usable token. */
@Entity({ name: 'admin_token' })
export class AdminTokenEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'app_id', type: 'varchar', length: 32 })
  appId!: string;

  /** Hex SHA-256 of the token. */
  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash!: string;

  @Column({ type: 'text', nullable: true })
  label!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
