import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Failed-login counters, shared by every instance (see throttle-policy.ts). */
@Entity({ name: 'login_throttle' })
@Index('login_throttle_last_failure_idx', ['lastFailureAt'])
export class LoginThrottleEntity {
  @PrimaryColumn({ type: 'varchar', length: 400 })
  key!: string;

  /** The free failures in force when the key was last counted. */
  @Column({ name: 'free_failures', type: 'integer' })
  freeFailures!: number;

  @Column({ type: 'integer' })
  failures!: number;

  @Column({ name: 'last_failure_at', type: 'timestamptz' })
  lastFailureAt!: Date;

  @Column({ name: 'blocked_until', type: 'timestamptz', nullable: true })
  blockedUntil!: Date | null;
}
