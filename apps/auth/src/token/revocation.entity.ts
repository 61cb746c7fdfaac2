import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { int64Number } from '@app/persistence';

/**
 * The revocation log: every revoked token's jti, in order, so services that verify tokens locally
 * can follow revocations by polling what came after the last `seq` they saw.
 */
@Entity({ name: 'revocation' })
@Index('revocation_expires_idx', ['expiresAt'])
export class RevocationEntity {
  @PrimaryColumn({ type: 'bigint', transformer: int64Number, insert: false, update: false, generated: 'identity', generatedIdentity: 'ALWAYS' })
  seq!: number;

  @Column({ type: 'uuid' })
  jti!: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', default: () => 'now()' })
  revokedAt!: Date;
}
