/**
 * The rule tables of docs/authorization.md, row by row, against CallerResolver alone: the look-ups
 * it asks (admin tokens, user tokens, users, groups) are small fakes holding one app's data, so
 * each case says what the caller presents and what the rules answer.
 */
import { ApiError, type ErrorName } from '@app/contract';
import { CallerResolver, type CallerClaims, type ResolvedAccess } from './caller-resolver';
import type { Principal } from './principal';

const APP = 'app0000000000000000a';
const OTHER_APP = 'app0000000000000000b';
const ADMIN = 'adm_this-app';
const OTHER_ADMIN = 'adm_other-app';
const REVOKED_ADMIN = 'adm_revoked';
const OWNER = 1_000_000_000_001;
const GROUP_ADMIN = 1_000_000_000_002;
const MEMBER = 1_000_000_000_003;
const STRANGER = 1_000_000_000_004;
const GROUP = '900000000000000001';
/** User tokens by what the access-token verifier makes of them. */
const TOKENS: Record<string, number | ErrorName> = {
  'jwt-owner': OWNER,
  'jwt-group-admin': GROUP_ADMIN,
  'jwt-member': MEMBER,
  'jwt-expired': 'ACCESS_TOKEN_EXPIRED',
  'jwt-revoked': 'ACCESS_TOKEN_INVALID',
  'jwt-other-app': 'ACCESS_TOKEN_INVALID',
};
const ROLES: Record<number, number> = { [OWNER]: 3, [GROUP_ADMIN]: 2, [MEMBER]: 1 };

const adminTokens = {
  findActive: async (token: string) =>
    token === ADMIN ? { id: 'admin-token-1', appId: APP } : token === OTHER_ADMIN ? { id: 'admin-token-2', appId: OTHER_APP } : null,
};
const accessTokens = {
  verify: async (token: string) => {
    const outcome = TOKENS[token] ?? 'ACCESS_TOKEN_INVALID';
    if (typeof outcome === 'string') throw new ApiError(outcome);
    return { userId: outcome, jti: `jti-${outcome}` };
  },
};
const users = { exists: async (_appId: string, userId: number) => userId in ROLES || userId === STRANGER };
const groups = {
  exists: async (_appId: string, groupId: string) => groupId === GROUP,
  standing: async (_appId: string, actor: number, target: number) =>
    !(target in ROLES) ? 'shares-nothing' : ROLES[actor] > ROLES[target] ? 'outranks' : 'does-not-outrank',
};

const resolver = new CallerResolver(adminTokens as never, accessTokens as never, users as never, groups as never);
const openApp = { id: APP, openRegistration: true };
const closedApp = { id: APP, openRegistration: false };

function resolve(access: ResolvedAccess, claims: Partial<CallerClaims> = {}): Promise<Principal> {
  return resolver.resolve(access, { app: closedApp, ...claims });
}

async function refusal(access: ResolvedAccess, claims: Partial<CallerClaims> = {}): Promise<ErrorName> {
  const error: unknown = await resolve(access, claims).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected a refusal, got ${JSON.stringify(error)}`);
  return error.errorName;
}

const admin = { kind: 'admin', appId: APP, adminTokenId: 'admin-token-1' };
const userCaller = (userId: number) => ({ kind: 'user', appId: APP, userId, jti: `jti-${userId}` });

describe('CallerResolver: the caller behind access-token', () => {
  it('makes an admin token of this app an admin, acting as itself', async () => {
    await expect(resolve('admin', { token: ADMIN })).resolves.toEqual({ caller: admin, acting: { kind: 'admin' }, impersonated: false });
  });

  it('makes a user token of this app that user', async () => {
    await expect(resolve('user', { token: 'jwt-member' })).resolves.toEqual({
      caller: userCaller(MEMBER),
      acting: { kind: 'user', userId: MEMBER },
      impersonated: false,
    });
  });

  it("refuses an admin token of another app, an unknown or revoked one, and a revoked or another app's user token with 10008", async () => {
    for (const token of [OTHER_ADMIN, REVOKED_ADMIN, 'jwt-revoked', 'jwt-other-app', 'not-a-token']) {
      expect(await refusal('admin', { token })).toBe('ACCESS_TOKEN_INVALID');
      expect(await refusal('user', { token })).toBe('ACCESS_TOKEN_INVALID');
    }
  });

  it('answers a user token that has only expired with 402, the re-login signal', async () => {
    expect(await refusal('user', { token: 'jwt-expired' })).toBe('ACCESS_TOKEN_EXPIRED');
  });

  it('answers no token with 10003 where the route needs one', async () => {
    expect(await refusal('admin')).toBe('ACCESS_TOKEN_MISSING');
    expect(await refusal('user')).toBe('ACCESS_TOKEN_MISSING');
  });
});

describe('CallerResolver: routes open to anonymous callers', () => {
  it('ignores any access-token on the login routes, usable or not', async () => {
    for (const token of [undefined, ADMIN, 'jwt-member', 'jwt-expired', 'jwt-revoked', REVOKED_ADMIN]) {
      await expect(resolve('anonymous', { token })).resolves.toEqual({ caller: { kind: 'anonymous' }, acting: { kind: 'anonymous' }, impersonated: false });
    }
  });

  it('resolves the token strictly once an impersonation header asks it to mean something', async () => {
    expect(await refusal('anonymous', { token: 'jwt-revoked', userId: String(MEMBER) })).toBe('ACCESS_TOKEN_INVALID');
    await expect(resolve('anonymous', { token: ADMIN, userId: String(MEMBER) })).resolves.toEqual({
      caller: admin,
      acting: { kind: 'user', userId: MEMBER },
      impersonated: true,
    });
  });

  it('lets anyone register on an open app, counting an unusable token as none and a valid one as what it is', async () => {
    for (const token of [undefined, 'jwt-expired', 'jwt-revoked', REVOKED_ADMIN, OTHER_ADMIN]) {
      expect((await resolve('admin-or-open', { app: openApp, token })).caller).toEqual({ kind: 'anonymous' });
    }
    expect((await resolve('admin-or-open', { app: openApp, token: ADMIN })).caller).toEqual(admin);
    expect((await resolve('admin-or-open', { app: openApp, token: 'jwt-member' })).caller).toEqual(userCaller(MEMBER));
  });

  it('keeps a failure that is not the token’s (the database) a failure on an open app', async () => {
    const failing = new CallerResolver(
      { findActive: () => Promise.reject(new Error('connection lost')) } as never,
      accessTokens as never,
      users as never,
      groups as never,
    );
    await expect(failing.resolve('admin-or-open', { app: openApp, token: ADMIN })).rejects.toThrow('connection lost');
  });

  it('needs an admin token to register on a closed app: a bad token is 10008, none or a user token 10010', async () => {
    await expect(resolve('admin-or-open', { token: ADMIN })).resolves.toMatchObject({ caller: admin });
    expect(await refusal('admin-or-open', { token: 'jwt-revoked' })).toBe('ACCESS_TOKEN_INVALID');
    expect(await refusal('admin-or-open')).toBe('NO_PERMISSION');
    expect(await refusal('admin-or-open', { token: 'jwt-member' })).toBe('NO_PERMISSION');
  });
});

describe('CallerResolver: the impersonation headers', () => {
  it('refuses both headers at once with 10002, whoever calls', async () => {
    for (const token of [undefined, ADMIN, 'jwt-owner']) {
      expect(await refusal('user', { token, groupId: GROUP, userId: String(MEMBER) })).toBe('BAD_PARAMETER');
    }
  });

  it('refuses either header from an anonymous caller with 10010', async () => {
    expect(await refusal('anonymous', { groupId: GROUP })).toBe('NO_PERMISSION');
    expect(await refusal('anonymous', { userId: String(MEMBER) })).toBe('NO_PERMISSION');
  });

  it('lets an admin act as an admin of a group of the app, and answers an unknown group with 20001', async () => {
    await expect(resolve('admin', { token: ADMIN, groupId: GROUP })).resolves.toEqual({
      caller: admin,
      acting: { kind: 'group-admin', groupId: GROUP },
      impersonated: true,
    });
    expect(await refusal('admin', { token: ADMIN, groupId: '900000000000000002' })).toBe('GROUP_NOT_FOUND');
  });

  it('refuses group_id with a user token (10010)', async () => {
    expect(await refusal('user', { token: 'jwt-owner', groupId: GROUP })).toBe('NO_PERMISSION');
  });

  it('lets an admin act as any user of the app, and refuses one that is not (10010), never falling back to the admin', async () => {
    await expect(resolve('user', { token: ADMIN, userId: String(STRANGER) })).resolves.toEqual({
      caller: admin,
      acting: { kind: 'user', userId: STRANGER },
      impersonated: true,
    });
    expect(await refusal('user', { token: ADMIN, userId: '1000000000000099' })).toBe('NO_PERMISSION');
    expect(await refusal('user', { token: ADMIN, userId: '9223372036854775807' })).toBe('NO_PERMISSION');
  });

  it('makes a user naming itself act as itself: no impersonation', async () => {
    await expect(resolve('user', { token: 'jwt-member', userId: String(MEMBER) })).resolves.toEqual({
      caller: userCaller(MEMBER),
      acting: { kind: 'user', userId: MEMBER },
      impersonated: false,
    });
  });

  it('lets a user act for one it strictly outranks in a shared group: an owner for admins and members, an admin for members', async () => {
    for (const [actor, target] of [
      ['jwt-owner', GROUP_ADMIN],
      ['jwt-owner', MEMBER],
      ['jwt-group-admin', MEMBER],
    ] as const) {
      await expect(resolve('user', { token: actor, userId: String(target) })).resolves.toMatchObject({ acting: { kind: 'user', userId: target }, impersonated: true });
    }
  });

  it('refuses a user who never outranks the other with 20012, and one sharing no group with 20002', async () => {
    expect(await refusal('user', { token: 'jwt-group-admin', userId: String(OWNER) })).toBe('NEEDS_GROUP_ADMIN');
    expect(await refusal('user', { token: 'jwt-member', userId: String(GROUP_ADMIN) })).toBe('NEEDS_GROUP_ADMIN');
    expect(await refusal('user', { token: 'jwt-owner', userId: String(STRANGER) })).toBe('NOT_GROUP_MEMBER');
  });
});

describe('CallerResolver: the routes', () => {
  it('answers a user token on an admin route with 10010', async () => {
    expect(await refusal('admin', { token: 'jwt-owner' })).toBe('NO_PERMISSION');
  });

  it("answers an admin without user_id on a user's route with 10002, and lets it through with one", async () => {
    expect(await refusal('user', { token: ADMIN })).toBe('BAD_PARAMETER');
    await expect(resolve('user', { token: ADMIN, userId: String(MEMBER) })).resolves.toMatchObject({ acting: { kind: 'user', userId: MEMBER } });
  });

  it("answers an admin acting as a group's admin on a user's route with 10002", async () => {
    expect(await refusal('user', { token: ADMIN, groupId: GROUP })).toBe('BAD_PARAMETER');
  });
});
