/**
 * The token interface end to end: the three login routes over real HTTP on real PostgreSQL.
 */
import { createPublicKey } from 'node:crypto';
import { verify } from 'jsonwebtoken';
import { hash } from '@node-rs/argon2';
import { JwtService } from '@nestjs/jwt';
import { Client } from 'pg';
import { TestService, decodeJwt, expectError, type TestApp } from '../support/test-service';
import { SigningKeyEntity } from '../../apps/auth/src/signing-keys/signing-key.entity';
import { SessionEntity } from '../../apps/auth/src/token/session.entity';
import { UserEntity } from '../../apps/auth/src/users/user.entity';
import { TenantsService } from '../../apps/auth/src/tenants/tenants.service';

const PASSWORD = 'correct horse battery';

describe('the token routes', () => {
  let service: TestService;
  let tenant: TestApp;
  let user: UserEntity;

  beforeAll(async () => {
    service = await TestService.start();
    tenant = await service.createApp({ defaultRegion: 'CN' });
    user = await service.createUser(tenant.app, { username: 'Alice_01', mobile: '+8613800138000', email: 'Alice@Example.com', password: PASSWORD });
  });
  afterAll(() => service.close());

  const login = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    service.post(path, { appId: tenant.app.id, body, headers });

  it('lets all three routes log the same user in', async () => {
    const replies = await Promise.all([
      login('/token/id', { user_id: user.id, password: PASSWORD }),
      login('/token/login', { login_name: 'alice_01', password: PASSWORD }),
      login('/token/user', { name: 'Alice_01', password: PASSWORD }),
    ]);
    for (const reply of replies) {
      expect(reply.status).toBe(200);
      expect(reply.body.code).toBe(200);
      expect(reply.body.message).toBeNull();
      expect(reply.body.data.user_id).toBe(user.id);
    }
  });

  it('answers the platform envelope with every field typed as the contract says', async () => {
    const reply = await login('/token/user', { name: 'alice_01', password: PASSWORD });
    const data = reply.body.data;
    expect(Object.keys(data).sort()).toEqual(
      ['access_key_secret', 'encrypt_type', 'expire', 'public_key', 'push_token', 'store_token', 'token', 'user_id'].sort(),
    );
    expect(typeof data.token).toBe('string');
    expect(typeof data.user_id).toBe('number');
    expect(Number.isInteger(data.expire)).toBe(true);
    expect(data.push_token).toBeNull();
    expect(typeof data.store_token).toBe('string');
    expect(data.access_key_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(data.public_key).toBe(tenant.app.publicKey);
    expect(data.public_key).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(data.encrypt_type).toBe(0);
  });

  it('issues an RS256 JWT with a kid, the required claims, and a recorded session', async () => {
    const before = Math.floor(Date.now() / 1000);
    const reply = await login('/token/id', { user_id: String(user.id), password: PASSWORD });
    const { token, expire } = reply.body.data;
    const { header, claims } = decodeJwt(token);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    expect(typeof header.kid).toBe('string');

    const key = await service.dataSource.getRepository(SigningKeyEntity).findOneByOrFail({ kid: header.kid as string });
    const verified = verify(token, createPublicKey(key.publicKey), { algorithms: ['RS256'] }) as Record<string, unknown>;
    expect(verified).toMatchObject({ iss: 'im-auth', sub: String(user.id), app_id: tenant.app.id });
    expect(verified.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.exp).toBe((claims.iat as number) + 7 * 24 * 3600);
    expect(claims.iat).toBeGreaterThanOrEqual(before);
    expect(expire).toBe((claims.exp as number) * 1000);

    const session = await service.dataSource.getRepository(SessionEntity).findOneByOrFail({ jti: claims.jti as string });
    expect(session).toMatchObject({ appId: tenant.app.id, userId: user.id, deviceId: null, revokedAt: null });
    expect(session.expiresAt.getTime()).toBe(expire);
  });

  it("uses the app's token lifetime", async () => {
    const shortLived = await service.createApp({ tokenTtlSeconds: 600 });
    const someone = await service.createUser(shortLived.app, { username: 'bob' });
    const reply = await service.post('/token/id', { appId: shortLived.app.id, body: { user_id: someone.id, password: PASSWORD } });
    const { claims } = decodeJwt(reply.body.data.token);
    expect((claims.exp as number) - (claims.iat as number)).toBe(600);
  });

  it('signs the tokens while the session row is being written: the write is sent first', async () => {
    const queries = jest.spyOn(Client.prototype, 'query');
    const signatures = jest.spyOn(JwtService.prototype, 'sign');
    try {
      expect((await login('/token/user', { name: 'alice_01', password: PASSWORD })).body.code).toBe(200);
      const write = queries.mock.calls.findIndex(([config]) => String((config as { text?: string })?.text ?? config).includes('INSERT INTO session'));
      expect(write).toBeGreaterThanOrEqual(0);
      expect(signatures.mock.calls).toHaveLength(2); // the access token and the store token
      const sentAt = queries.mock.invocationCallOrder[write];
      expect(signatures.mock.invocationCallOrder.map((order) => order > sentAt)).toEqual([true, true]);
    } finally {
      queries.mockRestore();
      signatures.mockRestore();
    }
  });

  describe('login names', () => {
    it.each([
      ['a username, any case', 'ALICE_01'],
      ['a full-width username (NFKC)', 'Ａｌｉｃｅ＿０１'],
      ['an email, any case', 'alice@EXAMPLE.com'],
      ['a mobile in E.164', '+8613800138000'],
      ['a mobile with spaces', '+86 138 0013 8000'],
      ["a national mobile in the app's region", '13800138000'],
    ])('finds the user by %s', async (_label, loginName) => {
      const reply = await login('/token/login', { login_name: loginName, password: PASSWORD });
      expect(reply.body.code).toBe(200);
      expect(reply.body.data.user_id).toBe(user.id);
    });
  });

  describe('wrong credentials', () => {
    const cases: Array<[string, string, Record<string, unknown>]> = [
      ['a wrong password by id', '/token/id', { password: 'wrong password' }],
      ['an unknown user id', '/token/id', { user_id: 1234567890123, password: PASSWORD }],
      ['a wrong password by login name', '/token/login', { login_name: 'alice_01', password: 'wrong password' }],
      ['an unknown login name', '/token/login', { login_name: 'nobody@example.com', password: PASSWORD }],
      ['a wrong password by username', '/token/user', { name: 'alice_01', password: 'wrong password' }],
      ['an unknown username', '/token/user', { name: 'nobody', password: PASSWORD }],
    ];
    it.each(cases)('answers %s with 10101 and one message', async (_label, path, body) => {
      const reply = await login(path, { user_id: user.id, ...body });
      expectError(reply, 401, 10101, 'Wrong user or password');
    });

    it("does not find another app's user", async () => {
      const other = await service.createApp();
      const reply = await service.post('/token/id', { appId: other.app.id, body: { user_id: user.id, password: PASSWORD } });
      expectError(reply, 401, 10101);
    });
  });

  describe('a banned user', () => {
    let banned: UserEntity;
    beforeAll(async () => {
      banned = await service.createUser(tenant.app, { username: 'banned_one' });
      await service.dataSource.getRepository(UserEntity).update({ id: banned.id }, { status: 1 });
    });

    it('is told it is banned once its password checks out', async () => {
      expectError(await login('/token/user', { name: 'banned_one', password: PASSWORD }), 403, 10102, 'User is banned');
    });

    it('is told only "wrong credentials" with a wrong password', async () => {
      expectError(await login('/token/user', { name: 'banned_one', password: 'wrong password' }), 401, 10101);
    });
  });

  describe('a stale access-token', () => {
    it.each([
      ['garbage', 'not-a-token'],
      ['an expired-looking JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2lnbmF0dXJl'],
      ['an unknown admin token', 'adm_unknown'],
    ])('does not block a login when it is %s', async (_label, token) => {
      const reply = await login('/token/user', { name: 'alice_01', password: PASSWORD }, { 'access-token': token });
      expect(reply.body.code).toBe(200);
    });
  });

  describe('validation before authentication', () => {
    const cases: Array<[string, string, unknown, RegExp]> = [
      ['a missing user_id', '/token/id', { password: PASSWORD }, /user_id is required/],
      ['a fractional user_id', '/token/id', { user_id: 1.5, password: PASSWORD }, /user_id must be a positive integer/],
      ['a negative user_id', '/token/id', { user_id: -5, password: PASSWORD }, /user_id/],
      ['a user_id of 2^53', '/token/id', { user_id: 2 ** 53, password: PASSWORD }, /user_id/],
      ['a non-numeric user_id', '/token/id', { user_id: '12ab', password: PASSWORD }, /user_id/],
      ['a user_id that is an object', '/token/id', { user_id: { $gt: 0 }, password: PASSWORD }, /user_id/],
      ['a missing password', '/token/user', { name: 'alice_01' }, /password is required/],
      ['a numeric password', '/token/user', { name: 'alice_01', password: 12345678 }, /password must be a string/],
      ['an empty password', '/token/user', { name: 'alice_01', password: '' }, /password should not be empty/],
      ['a missing name and mobile', '/token/user', { password: PASSWORD }, /name or mobile is required/],
      ['a null login_name', '/token/login', { login_name: null, password: PASSWORD }, /login_name is required/],
      ['an array login_name', '/token/login', { login_name: ['alice_01'], password: PASSWORD }, /login_name must be a string/],
      ['a device_guid with spaces', '/token/user', { name: 'alice_01', password: PASSWORD, device_guid: 'a b' }, /device_guid/],
      ['a device_guid over 128 characters', '/token/user', { name: 'alice_01', password: PASSWORD, device_guid: 'x'.repeat(129) }, /device_guid/],
      ['a body that is an array', '/token/user', [1, 2], /JSON object/],
    ];
    it.each(cases)('answers %s with 400 / 10002 naming the field', async (_label, path, body, message) => {
      expectError(await login(path, body), 400, 10002, message);
    });

    it('answers an empty body with 10002, not a bare 401', async () => {
      const reply = await service.post('/token/id', { appId: tenant.app.id });
      expectError(reply, 400, 10002, /user_id is required/);
    });

    it('refuses a password over the maximum before hashing it', async () => {
      const reply = await login('/token/user', { name: 'alice_01', password: 'p'.repeat(257) });
      expectError(reply, 400, 10002, /password must be at most 256 characters/);
    });
  });

  describe('the app_id header', () => {
    it('is required', async () => {
      expectError(await service.post('/token/user', { body: { name: 'alice_01', password: PASSWORD } }), 400, 10002, /app_id/);
    });

    it('must name an existing app', async () => {
      expectError(await service.post('/token/user', { appId: 'no-such-app', body: { name: 'alice_01', password: PASSWORD } }), 404, 40000);
    });

    it('must name an enabled app', async () => {
      const disabled = await service.createApp();
      await service.createUser(disabled.app, { username: 'carol' });
      await service.nest.get(TenantsService).update(disabled.app.id, { status: 1 });
      const reply = await service.post('/token/user', { appId: disabled.app.id, body: { name: 'carol', password: PASSWORD } });
      expectError(reply, 404, 40000, /disabled/);
    });
  });

  describe('the impersonation headers', () => {
    it.each([
      ['group_id', 'abc'],
      ['group_id', '-1'],
      ['user_id', '1.5'],
      ['user_id', '9223372036854775808'],
    ])('refuses %s=%s as not an int64', async (header, value) => {
      const reply = await login('/token/user', { name: 'alice_01', password: PASSWORD }, { [header]: value });
      expectError(reply, 400, 10002, new RegExp(`${header} header must be a positive int64`));
    });
  });

  it('re-hashes a password stored with older argon2 parameters at the next login', async () => {
    const old = await service.createUser(tenant.app, { username: 'old_hash' });
    const oldHash = await hash(PASSWORD, { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    const users = service.dataSource.getRepository(UserEntity);
    await users.update({ id: old.id }, { passwordHash: oldHash });

    const reply = await login('/token/user', { name: 'old_hash', password: PASSWORD });
    expect(reply.body.code).toBe(200);
    const stored = (await users.findOneByOrFail({ id: old.id })).passwordHash;
    expect(stored).not.toBe(oldHash);
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });
});
