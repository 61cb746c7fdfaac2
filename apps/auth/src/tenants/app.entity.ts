import { Check, Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { ErrorHttpStatusMode } from '@app/config';

export enum AppStatus {
  Active = 0,
  Disabled = 1,
}

/** A tenant: every request names one in its `app_id` header; users, devices and tokens belong to one. */
@Entity({ name: 'app' })
// Names are the ones PostgreSQL gave the migration's column CHECKs, so the schema diff matches them.
@Check('app_token_ttl_seconds_check', 'token_ttl_seconds > 0')
@Check('app_error_http_status_check', "error_http_status IN ('mirror', 'always-200')")
@Check('app_password_min_length_check', 'password_min_length >= 1')
@Check('app_encrypt_type_check', 'encrypt_type IN (0, 1)')
@Check('app_login_free_failures_check', 'login_free_failures >= 1')
@Check('app_login_ip_free_failures_check', 'login_ip_free_failures >= 1')
@Check('app_login_max_delay_seconds_check', 'login_max_delay_seconds >= 1')
@Check('app_login_failure_reset_seconds_check', 'login_failure_reset_seconds >= 60')
export class AppEntity {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'smallint', default: AppStatus.Active })
  status!: AppStatus;

  /** Lifetime of an access token issued by `/token/*`. */
  @Column({ name: 'token_ttl_seconds', type: 'integer', default: 7 * 24 * 3600 })
  tokenTtlSeconds!: number;

  /** Overrides the server-wide ERROR_HTTP_STATUS for this app; null follows the server. */
  @Column({ name: 'error_http_status', type: 'varchar', length: 16, nullable: true })
  errorHttpStatus!: ErrorHttpStatusMode | null;

  /** Whether `POST /user/register/v2` works without an admin token. */
  @Column({ name: 'open_registration', type: 'boolean', default: false })
  openRegistration!: boolean;

  @Column({ name: 'password_min_length', type: 'integer', default: 8 })
  passwordMinLength!: number;

  /** ISO 3166 region for mobile numbers written without a country code; null: "+" form required. */
  @Column({ name: 'default_region', type: 'varchar', length: 2, nullable: true })
  defaultRegion!: string | null;

  /** Usernames may not start with these (compared case-insensitively). */
  @Column({ name: 'reserved_username_prefixes', type: 'text', array: true, default: () => "'{}'" })
  reservedUsernamePrefixes!: string[];

  /** 1: clients must use the encrypted connection with `public_key`. */
  @Column({ name: 'encrypt_type', type: 'smallint', default: 0 })
  encryptType!: number;

  /** Public half (SPKI PEM) of the app's key pair for the encrypted client connection. */
  @Column({ name: 'public_key', type: 'text' })
  publicKey!: string;

  /** Private half, sealed under the master key (never leaves the service). */
  @Column({ name: 'private_key_sealed', type: 'text' })
  privateKeySealed!: string;

  /** Login throttle (throttle/throttle-policy.ts): failures of one account before it must wait. */
  @Column({ name: 'login_free_failures', type: 'integer', default: 5 })
  loginFreeFailures!: number;

  /** Failures from one client IP before it must wait. */
  @Column({ name: 'login_ip_free_failures', type: 'integer', default: 50 })
  loginIpFreeFailures!: number;

  /** The longest wait a throttled key gets. */
  @Column({ name: 'login_max_delay_seconds', type: 'integer', default: 900 })
  loginMaxDelaySeconds!: number;

  /** Failures are forgotten after this long without one. */
  @Column({ name: 'login_failure_reset_seconds', type: 'integer', default: 3600 })
  loginFailureResetSeconds!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
