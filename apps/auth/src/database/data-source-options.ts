/**
 * The one description of our database for TypeORM, shared by the service, the CLI and the
 * migration scripts. Schema changes go through migrations only (never `synchronize`).
 */
import type { DataSourceOptions } from 'typeorm';
import { AppEntity } from '../tenants/app.entity';
import { UserEntity } from '../users/user.entity';
import { DeviceEntity } from '../devices/device.entity';
import { SessionEntity } from '../token/session.entity';
import { SigningKeyEntity } from '../signing-keys/signing-key.entity';
import { AdminTokenEntity } from '../admin-tokens/admin-token.entity';
import { InitialSchema1764115200000 } from './migrations/1764115200000-initial-schema';
import { LoginThrottle1764201600000 } from './migrations/1764201600000-login-throttle';
import { LoginThrottleEntity } from '../throttle/login-throttle.entity';
import { GroupsAndAudit1764288000000 } from './migrations/1764288000000-groups-and-audit';
import { GroupEntity, GroupMemberEntity } from '../groups/group.entities';
import { ImpersonationAuditEntity } from '../audit/impersonation-audit.entity';
import { RevocationEntity } from '../token/revocation.entity';
import { DeviceVendorPushToken1765300000000 } from './migrations/1765300000000-device-vendor-push-token';
import { LoginReservations1765000000000 } from './migrations/1765000000000-login-reservations';
import { RevocationsPerApp1765100000000 } from './migrations/1765100000000-revocations-per-app';
import { VerifierTokens1765100100000 } from './migrations/1765100100000-verifier-tokens';
import { SigningKeyRevocation1765100200000 } from './migrations/1765100200000-signing-key-revocation';
import { SessionExpiryIndex1765400000000 } from './migrations/1765400000000-session-expiry-index';

export const ENTITIES = [AppEntity, UserEntity, DeviceEntity, SessionEntity, SigningKeyEntity, AdminTokenEntity, LoginThrottleEntity,
  GroupEntity, GroupMemberEntity, ImpersonationAuditEntity, RevocationEntity];
export const MIGRATIONS = [InitialSchema1764115200000, LoginThrottle1764201600000, GroupsAndAudit1764288000000,
  LoginReservations1765000000000, RevocationsPerApp1765100000000, VerifierTokens1765100100000, SigningKeyRevocation1765100200000,
  DeviceVendorPushToken1765300000000, SessionExpiryIndex1765400000000];

export function dataSourceOptions(url: string, options: { poolSize: number; timeoutMs: number }): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    // Failed queries are not logged here: TypeORM would print their parameters (password hashes,
    // push tokens). The exception filter logs errors without them.
    logging: ['migration'],
    extra: {
      max: options.poolSize,
      // a dead database fails requests fast instead of queueing them forever
      connectionTimeoutMillis: options.timeoutMs,
      query_timeout: options.timeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: 'im-auth',
    },
  };
}
