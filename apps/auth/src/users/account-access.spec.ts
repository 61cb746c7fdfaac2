/**
 * Who may change, set or delete a user's account beyond acting as the user, and how much of the
 * audit each reader sees: the rules read only the Principal that CallerGuard resolved.
 */
import { actingUserId, asAdminForUser, asSelf, auditRowAsSeenBy } from './account-access';
import type { Principal } from '../callers/principal';
import type { ImpersonationAuditEntity } from '../audit/impersonation-audit.entity';

const APP = 'app';
const ALICE = 1_100_000_000_001;
const BOB = 1_100_000_000_002;

const own: Principal = { caller: { kind: 'user', appId: APP, userId: ALICE, jti: 'jti-a' }, acting: { kind: 'user', userId: ALICE }, impersonated: false };
const adminForAlice: Principal = { caller: { kind: 'admin', appId: APP, adminTokenId: 'adm-1' }, acting: { kind: 'user', userId: ALICE }, impersonated: true };
const ownerForAlice: Principal = { caller: { kind: 'user', appId: APP, userId: BOB, jti: 'jti-b' }, acting: { kind: 'user', userId: ALICE }, impersonated: true };
const aliceNamingHerself: Principal = { ...own, impersonated: true };
const adminAlone: Principal = { caller: { kind: 'admin', appId: APP, adminTokenId: 'adm-1' }, acting: { kind: 'admin' }, impersonated: false };

describe('asSelf', () => {
  it("is the user with their own token, keeping the session's jti", () => {
    expect(asSelf(own)).toEqual({ kind: 'self', userId: ALICE, jti: 'jti-a' });
  });

  it('is nobody acting for the user: not an admin, not a group owner', () => {
    expect(asSelf(adminForAlice)).toBeUndefined();
    expect(asSelf(ownerForAlice)).toBeUndefined();
  });

  it('is not a call that sent the user_id header, even naming the caller', () => {
    expect(asSelf(aliceNamingHerself)).toBeUndefined();
  });
});

describe('asAdminForUser', () => {
  it('is an admin token acting for a user', () => {
    expect(asAdminForUser(adminForAlice)).toEqual({ kind: 'admin', userId: ALICE });
  });

  it('is neither the user nor a group owner acting for them, nor an admin acting for nobody', () => {
    expect(asAdminForUser(own)).toBeUndefined();
    expect(asAdminForUser(ownerForAlice)).toBeUndefined();
    expect(asAdminForUser(adminAlone)).toBeUndefined();
  });
});

describe('actingUserId', () => {
  it('is the user the request acts as, whoever calls', () => {
    expect([own, adminForAlice, ownerForAlice].map(actingUserId)).toEqual([ALICE, ALICE, ALICE]);
  });

  it('fails closed when the request acts as no user', () => {
    expect(() => actingUserId(adminAlone)).toThrow(/@Access\('user'\)/);
  });
});

describe('auditRowAsSeenBy', () => {
  const row = (callerKind: 'admin' | 'user', callerId: string): ImpersonationAuditEntity => ({
    id: 1,
    appId: APP,
    callerKind,
    callerId,
    actingUserId: ALICE,
    actingGroupId: null,
    method: 'POST',
    path: '/user/kick',
    clientIp: '203.0.113.7',
    at: new Date(1764288000000),
  });
  const byAdmin = row('admin', 'adm-1');
  const byOwner = row('user', String(BOB));

  it('shows an admin every row whole', () => {
    expect(auditRowAsSeenBy(adminForAlice, byAdmin)).toMatchObject({ callerId: 'adm-1', clientIp: '203.0.113.7' });
    expect(auditRowAsSeenBy(adminForAlice, byOwner)).toMatchObject({ callerId: String(BOB), clientIp: '203.0.113.7' });
  });

  it("hides every caller's address from a user, and a calling user's id, but not an admin token's", () => {
    for (const reader of [own, ownerForAlice]) {
      expect(auditRowAsSeenBy(reader, byAdmin)).toMatchObject({ callerKind: 'admin', callerId: 'adm-1', clientIp: null });
      expect(auditRowAsSeenBy(reader, byOwner)).toMatchObject({ callerKind: 'user', callerId: null, clientIp: null });
    }
  });

  it('keeps what was done and when', () => {
    expect(auditRowAsSeenBy(own, byOwner)).toMatchObject({ actingUserId: ALICE, actingGroupId: null, method: 'POST', path: '/user/kick', at: new Date(1764288000000) });
  });
});
