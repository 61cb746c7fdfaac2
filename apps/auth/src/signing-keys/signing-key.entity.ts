import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A key pair that signs access tokens. One is active (retired_at null, enforced by a partial unique
 * index); retired ones stay to verify tokens signed before a rotation until those expire.
 */
@Entity({ name: 'signing_key' })
// UNIQUE on the expression (true) WHERE retired_at IS NULL: TypeORM cannot express an expression
// index, so it is named here for the record and left to the migration (the diff skips it).
@Index('signing_key_one_active', { synchronize: false })
export class SigningKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  kid!: string;

  @Column({ type: 'varchar', length: 10 })
  algorithm!: string;

  @Column({ name: 'public_key', type: 'text' })
  publicKey!: string;

  /** PKCS#8 PEM sealed under the master key. */
  @Column({ name: 'private_key_sealed', type: 'text' })
  privateKeySealed!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt!: Date | null;

  /** Set by `keys revoke` (a leaked key): retired too, and from then on neither verifies nor is published. */
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
