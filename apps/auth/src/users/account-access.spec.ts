/**
 * Who may change, set or delete a user's account beyond acting as the user: the rules read only
 * the Principal that CallerGuard resolved.
 */
import { actingUserId, asAdminForUser, asSelf } from './account-access';
import type { Principal } from '../callers/principal';

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
