/**
 * The rules of a user's own account: changing or setting the password, deleting the account, the
 * devices (list, remove, kick) and the audit of the calls that acted as the user.
 *
 * Who may act as the user at all is CallerGuard's decision; which of them may do each operation is
 * ./account-access.ts. Every change that also revokes sessions makes both writes in one
 * transaction, so no token outlives the password, device or account it was issued for, and every
 * revocation goes through SessionRevoker so the revocation log sees it.
 *
 * A password proof (the old password, or the password to delete) is checked outside the
 * transaction, since argon2 is slow; the transaction then locks the user and goes on only if the
 * hash is still the one that was proven. It shares the login throttle's counters: a stolen access
 * token must not become a way to guess the password faster than the login routes allow.
 */
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { ApiError } from '@app/contract';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { UserEntity } from './user.entity';
import { isPasswordTooLong, passwordPolicyViolation } from './password-policy';
import { actingUserId, asAdminForUser, asSelf, auditRowAsSeenBy, type AuditRowView } from './account-access';

/** The security stamp's next value (user.entity.ts says what moves it). */
const NEXT_STAMP = () => 'security_stamp + 1';
import type { Principal } from '../callers/principal';
import type { AppEntity } from '../tenants/app.entity';
import type { DeviceEntity } from '../devices/device.entity';
import { DeviceRegistry } from '../devices/device-registry';
import { SessionRevoker } from '../sessions/session-revoker';
import { PasswordHasher } from '../crypto/password-hasher';
import { ImpersonationAudit } from '../audit/impersonation-audit';
import { LoginThrottle } from '../throttle/login-throttle';
import { clientKey, identifierKey } from '../throttle/throttle-policy';
import type { RequestClient } from '../callers/client';

/** What a request proving a password brings along besides the password. */
export interface PasswordProof {
  password: string;
  /** The body field it came in, for the 10002 message. */
  field: string;
  /** The request's client: its network for the throttle and the hashing queue, and whether it hung up. */
  client: RequestClient;
}

@Injectable()
export class AccountService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly devices: DeviceRegistry,
    private readonly sessions: SessionRevoker,
    private readonly audit: ImpersonationAudit,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  /** The user changes their own password; every other session of theirs is revoked, and the vendor push bindings of the devices signed out dropped. */
  async changePassword(app: AppEntity, principal: Principal, oldPassword: PasswordProof, newPassword: string): Promise<void> {
    const self = asSelf(principal);
    if (!self) {
      throw new ApiError(
        'NO_PERMISSION',
        "change_password is only for the user, with their own access-token and no user_id header; an admin sets a user's password with POST /user/change_password_admin",
      );
    }
    this.checkNewPassword(app, newPassword, 'new_password');
    const proven = await this.provePassword(app, self.userId, oldPassword);
    const passwordHash = await this.hasher.hash(newPassword, oldPassword.client);
    await this.dataSource.transaction(async (manager) => {
      await this.lockUser(manager, app.id, self.userId, proven);
      await manager.update(UserEntity, { appId: app.id, id: self.userId }, { passwordHash, securityStamp: NEXT_STAMP });
      // The devices signed out lose their vendor push bindings, the caller's own keeps its; devices
      // before sessions, as a kick takes them.
      const own = await this.sessions.liveSessionDevice(self.jti, manager);
      await this.devices.unbindVendorPushTokensOf(manager, app.id, [self.userId], own?.deviceId ?? undefined);
      await this.sessions.revoke({ appId: app.id, userId: self.userId, exceptJti: self.jti }, manager);
    });
  }

  /** An admin sets the user's password; every session of the user is revoked, and every vendor push binding dropped. */
  async setPasswordAsAdmin(app: AppEntity, principal: Principal, password: string, client: RequestClient): Promise<void> {
    const admin = asAdminForUser(principal);
    if (!admin) {
      throw new ApiError('NO_PERMISSION', 'change_password_admin needs an admin access-token with the user_id header; a user changes their own password with POST /user/change_password');
    }
    this.checkNewPassword(app, password, 'password');
    const passwordHash = await this.hasher.hash(password, client);
    await this.dataSource.transaction(async (manager) => {
      await this.lockUser(manager, app.id, admin.userId);
      await manager.update(UserEntity, { appId: app.id, id: admin.userId }, { passwordHash, securityStamp: NEXT_STAMP });
      await this.devices.unbindVendorPushTokensOf(manager, app.id, [admin.userId]);
      await this.sessions.revoke({ appId: app.id, userId: admin.userId }, manager);
    });
  }

  /**
   * Deletes the user: with their own token after proving the password again, or by an admin. Their
   * sessions are revoked first (so the revocation log has them); devices, sessions and group
   * memberships go with the user row (ON DELETE CASCADE).
   */
  async deleteUser(app: AppEntity, principal: Principal, password: PasswordProof | undefined): Promise<void> {
    const self = asSelf(principal);
    const admin = asAdminForUser(principal);
    if (!self && !admin) {
      throw new ApiError('NO_PERMISSION', "Deleting a user needs the user's own access-token, or an admin access-token with the user_id header");
    }
    const userId = actingUserId(principal);
    let proven: string | undefined;
    if (self) {
      if (password === undefined) throw new ApiError('BAD_PARAMETER', 'password is required');
      proven = await this.provePassword(app, userId, password);
    }
    await this.dataSource.transaction(async (manager) => {
      // The user before the devices, in the order a login's write takes them: a concurrent login
      // then waits for this transaction (and finds the user gone) instead of deadlocking with it.
      await this.lockUser(manager, app.id, userId, proven);
      await this.devices.lockAll(manager, app.id, userId);
      await this.sessions.revoke({ appId: app.id, userId }, manager);
      await manager.delete(UserEntity, { appId: app.id, id: userId });
    });
  }

  listDevices(app: AppEntity, principal: Principal): Promise<DeviceEntity[]> {
    return this.devices.list(app.id, actingUserId(principal));
  }

  /** Forgets one device (and its push token); its sessions are revoked. */
  async removeDevice(app: AppEntity, principal: Principal, deviceSn: number): Promise<void> {
    const userId = actingUserId(principal);
    await this.dataSource.transaction(async (manager) => {
      const device = await this.lockDevice(manager, app.id, userId, deviceSn);
      await this.sessions.revoke({ appId: app.id, userId, deviceId: device.id }, manager);
      await this.devices.remove(manager, device);
    });
  }

  /**
   * Signs the user out of one device, or of everything when no device_sn is given: the sessions
   * are revoked and each device gets a fresh push token (the old one stops reaching it), while the
   * devices stay registered with their device_sn.
   */
  async kick(app: AppEntity, principal: Principal, deviceSn: number | undefined): Promise<void> {
    const userId = actingUserId(principal);
    await this.dataSource.transaction(async (manager) => {
      if (deviceSn === undefined) {
        // The stamp moves first (the user's row before the devices, as a login's write locks
        // them), so that logins already past their password check issue nothing either.
        await manager.update(UserEntity, { appId: app.id, id: userId }, { securityStamp: NEXT_STAMP });
        const devices = await this.devices.lockAll(manager, app.id, userId);
        await this.sessions.revoke({ appId: app.id, userId }, manager);
        for (const device of devices) await this.devices.replacePushToken(manager, device);
        return;
      }
      const device = await this.lockDevice(manager, app.id, userId, deviceSn);
      await this.sessions.revoke({ appId: app.id, userId, deviceId: device.id }, manager);
      await this.devices.replacePushToken(manager, device);
    });
  }

  /** The calls that acted as the user through an impersonation header, newest first, as the reader may see them. */
  async impersonations(app: AppEntity, principal: Principal): Promise<AuditRowView[]> {
    return (await this.audit.actingAs(app.id, actingUserId(principal))).map((row) => auditRowAsSeenBy(principal, row));
  }

  private checkNewPassword(app: AppEntity, password: string, field: string): void {
    const violation = passwordPolicyViolation(password, { minLength: app.passwordMinLength, maxLength: this.config.passwordMaxLength }, field);
    if (violation) throw new ApiError('BAD_PARAMETER', violation);
  }

  /**
   * Checks the user's password as a login does (length first, then one attempt of the login
   * throttle on the user id and the client, then argon2) and returns the hash it matched. A wrong
   * password is 10101 and counts as a failed login.
   */
  private async provePassword(app: AppEntity, userId: number, proof: PasswordProof): Promise<string> {
    if (isPasswordTooLong(proof.password, this.config.passwordMaxLength)) {
      throw new ApiError('BAD_PARAMETER', `${proof.field} must be at most ${this.config.passwordMaxLength} characters`);
    }
    const user = await this.users.findOne({ select: { id: true, passwordHash: true }, where: { appId: app.id, id: userId } });
    if (!user) throw new ApiError('USER_NOT_FOUND');
    const keys = { account: identifierKey(app.id, { kind: 'id', id: userId }), client: clientKey(app.id, proof.client.network) };
    const matched = await this.throttle.attempt(app, keys, () => this.hasher.verify(user.passwordHash, proof.password, proof.client));
    if (!matched) throw new ApiError('WRONG_CREDENTIALS', `${proof.field} is wrong`);
    return user.passwordHash;
  }

  /**
   * Locks the user's row for the rest of the transaction. With `provenHash`, the password must not
   * have changed since it was proven (a concurrent change wins; this request must prove again).
   */
  private async lockUser(manager: EntityManager, appId: string, userId: number, provenHash?: string): Promise<void> {
    const user = await manager.findOne(UserEntity, {
      select: { id: true, passwordHash: true },
      where: { appId, id: userId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!user) throw new ApiError('USER_NOT_FOUND');
    if (provenHash !== undefined && user.passwordHash !== provenHash) {
      throw new ApiError('WRONG_CREDENTIALS', 'The password was changed meanwhile: try again with the current one');
    }
  }

  private async lockDevice(manager: EntityManager, appId: string, userId: number, deviceSn: number): Promise<DeviceEntity> {
    const device = await this.devices.lockOne(manager, appId, userId, deviceSn);
    // The catalogue has no "device does not exist" code: the parameter names nothing, so 10002.
    if (!device) throw new ApiError('BAD_PARAMETER', `no device with device_sn ${deviceSn}`);
    return device;
  }
}
