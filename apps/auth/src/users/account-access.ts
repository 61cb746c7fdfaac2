/**
 * Who may do what to a user's own account, as pure functions of the resolved Principal.
 *
 * CallerGuard has already decided that the request may act as the user at all (the user's own
 * token; an admin token with `user_id`; a group owner or admin with `user_id`). Some account
 * operations need more than that:
 * - changing the password with the old one is for the user themself only: nobody acting for them
 *   knows the old password, and an impersonated call must not be able to set one;
 * - setting a password without the old one is for an admin only (never a group owner);
 * - deleting the account needs the user themself (who proves the password again) or an admin.
 * Everything else (devices, kicking, reading the audit) is open to whoever may act as the user,
 * though a user reads the audit with less in it than an admin does (`auditRowAsSeenBy`).
 */
import type { Principal } from '../callers/principal';
import type { ImpersonationAuditEntity } from '../audit/impersonation-audit.entity';

/** The user themself, calling with their own token and no impersonation header. */
export interface Self {
  readonly kind: 'self';
  readonly userId: number;
  /** The session that makes the call, kept alive by a password change. */
  readonly jti: string;
}

/** An admin token acting for the user through the `user_id` header. */
export interface AdminForUser {
  readonly kind: 'admin';
  readonly userId: number;
}

/** The user the request acts as. Only ever called on `@UserRoute()` routes. */
export function actingUserId(principal: Principal): number {
  // CallerGuard guarantees this on 'user' routes; anything else is a wiring bug, so fail closed.
  if (principal.acting.kind !== 'user') throw new Error("an account route without a user to act as: is its @UserRoute(), the @Access('user') rule, missing?");
  return principal.acting.userId;
}

export function asSelf(principal: Principal): Self | undefined {
  const { caller, acting, impersonated } = principal;
  if (impersonated || caller.kind !== 'user' || acting.kind !== 'user' || acting.userId !== caller.userId) return undefined;
  return { kind: 'self', userId: caller.userId, jti: caller.jti };
}

export function asAdminForUser(principal: Principal): AdminForUser | undefined {
  const { caller, acting } = principal;
  if (caller.kind !== 'admin' || acting.kind !== 'user') return undefined;
  return { kind: 'admin', userId: acting.userId };
}

/** An audit row as a reader sees it; `callerId` and `clientIp` are null where hidden. */
export type AuditRowView = Pick<ImpersonationAuditEntity, 'callerKind' | 'actingUserId' | 'actingGroupId' | 'method' | 'path' | 'at'> & {
  readonly callerId: string | null;
  readonly clientIp: string | null;
};

/**
 * An app admin reads the audit whole. A user (the user themself, or a group owner or admin acting
 * for them) learns what was done and when, but not from which address (another person's IP), and
 * who did it only when it was an admin token: which fellow group member acted is theirs to say.
 */
export function auditRowAsSeenBy(principal: Principal, row: ImpersonationAuditEntity): AuditRowView {
  if (principal.caller.kind === 'admin') return row;
  return { ...row, clientIp: null, callerId: row.callerKind === 'admin' ? row.callerId : null };
}
