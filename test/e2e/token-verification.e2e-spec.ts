/**
 * Verifying tokens elsewhere: the JWKS, signing-key rotation (across instances and from the CLI),
 * introspection, revoking a token, and the revocation log other services poll.
 *
 * Rotation changes the active key for every test process on the shared test database. That is
 * safe (retired keys keep verifying), and nothing here assumes which key is active except right
 * after its own rotation.
 */
import { createPublicKey, generateKeyPairSync, randomUUID, type JsonWebKey } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, sign, verify, TokenExpiredError } from 'jsonwebtoken';
import { IsNull } from 'typeorm';
import { Client } from 'pg';
import { TestService, TEST_MASTER_KEY, decodeJwt, expectError, type TestApp } from '../support/test-service';
import { runCli } from '../support/processes';
import { DatabaseLink } from '../support/database-link';
import { eventually } from '../support/eventually';
import { b64, craftJwt, respelledSignature } from '../support/crafted-jwt';
import { SigningKeysService } from '../../apps/auth/src/signing-keys/signing-keys.service';
import { SigningKeyEntity } from '../../apps/auth/src/signing-keys/signing-key.entity';
import { RevocationLog } from '../../apps/auth/src/token/revocation-log';
import { AccessTokenVerifier } from '../../apps/auth/src/token/access-token-verifier';
import { SessionRevoker } from '../../apps/auth/src/sessions/session-revoker';
import { AdminTokensService } from '../../apps/auth/src/admin-tokens/admin-tokens.service';
import { Introspection } from '../../apps/auth/src/token/introspection';
import { SessionPurge } from '../../apps/auth/src/token/session-purge';
import { DEFAULT_BATCH_BOUND, isDatabaseUnavailable } from '../../libs/persistence/src';
import type { ApiError } from '../../libs/contract/src';
import type { UserEntity } from '../../apps/auth/src/users/user.entity';

const PASSWORD = 'correct horse battery';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Polls `condition` every 20 ms until it holds (the test's timeout bounds it). */
const waitFor = async (condition: () => Promise<boolean>): Promise<void> => {
  while (!(await condition())) await sleep(20);
};

describe('verifying tokens elsewhere', () => {
  let service: TestService;
  /**
   * A second instance on the same database. It stays up until the end: Passport keeps one global
   * strategy per name, so the last instance started logs users in for both, and closing it early
   * would leave the first instance's login routes on a closed pool.
   */
  let other: TestService;
  let tenant: TestApp;
  /** A verifier token of the tenant: what a service verifying its tokens holds. */
  let verifierToken: string;
  let user: UserEntity;

  beforeAll(async () => {
    service = await TestService.start();
    other = await TestService.start();
    tenant = await service.createApp();
    verifierToken = (await service.nest.get(AdminTokensService).create(tenant.app.id, 'a verifying service', 'verifier')).token;
    user = await service.createUser(tenant.app, { username: 'verified_user' });
  });
  afterAll(async () => {
    await service.close();
    await other.close();
  });

  const login = async (on: TestService = service, body: Record<string, unknown> = {}): Promise<string> => {
    const reply = await on.post('/token/user', { appId: tenant.app.id, body: { name: user.username, password: PASSWORD, ...body } });
    expect(reply.body.code).toBe(200);
    return reply.body.data.token as string;
  };
  const introspect = (token: unknown, as: TestApp = tenant, on: TestService = service) =>
    on.post('/token/introspect', { appId: as.app.id, token: as.adminToken, body: { token } });
  const jwks = (on: TestService = service) => on.call<{ keys: Array<JsonWebKey & { kid: string }> }>('GET', '/.well-known/jwks.json');
  const revocations = (since?: number | string, token = tenant.adminToken) =>
    service.call('GET', since === undefined ? '/token/revocations' : `/token/revocations?since=${since}`, { appId: tenant.app.id, token });
  const activeKid = async () =>
    (await service.dataSource.getRepository(SigningKeyEntity).findOneByOrFail({ retiredAt: IsNull() })).kid;

  describe('GET /.well-known/jwks.json', () => {
    it('answers the bare RFC 7517 document, cacheable, without app_id', async () => {
      const reply = await jwks();
      expect(reply.status).toBe(200);
      expect(reply.headers.get('cache-control')).toBe('public, max-age=60');
      expect(Object.keys(reply.body)).toEqual(['keys']);
      expect(reply.body.keys.length).toBeGreaterThanOrEqual(1);
      for (const key of reply.body.keys) {
        expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
        expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
      }
    });

    it('lists the key that verifies an issued token, by its kid', async () => {
      const token = await login();
      const { header } = decodeJwt(token);
      const jwk = (await jwks()).body.keys.find((key) => key.kid === header.kid);
      expect(jwk).toBeDefined();
      const claims = verify(token, createPublicKey({ key: jwk!, format: 'jwk' }), { algorithms: ['RS256'], issuer: 'im-auth' });
      expect(claims).toMatchObject({ sub: String(user.id), app_id: tenant.app.id });
    });

    it('leaves out a key retired for longer than any token can live', async () => {
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
      const kid = `ancient-${Date.now()}`;
      await service.dataSource.query(
        `INSERT INTO signing_key (kid, algorithm, public_key, private_key_sealed, created_at, retired_at)
         VALUES ($1, 'RS256', $2, 'v1.x.x.x', now() - interval '800 days', now() - interval '400 days')`,
        [kid, publicKey],
      );
      await service.nest.get(SigningKeysService).refresh();
      expect((await jwks()).body.keys.map((key) => key.kid)).not.toContain(kid);
    });
  });

  describe('key rotation', () => {
    it('signs new tokens with the new key while tokens of the old one keep working', async () => {
      const oldToken = await login();
      const oldKid = decodeJwt(oldToken).header.kid;

      const rotated = await service.nest.get(SigningKeysService).rotate();
      expect(rotated.retired).toBe(oldKid);
      expect(rotated.kid).not.toBe(oldKid);
      expect(await activeKid()).toBe(rotated.kid);

      const newToken = await login();
      expect(decodeJwt(newToken).header.kid).toBe(rotated.kid);
      expect((await introspect(oldToken)).body.data.active).toBe(true);
      expect((await introspect(newToken)).body.data.active).toBe(true);

      const kids = (await jwks()).body.keys.map((key) => key.kid);
      expect(kids[0]).toBe(rotated.kid);
      expect(kids).toContain(oldKid);

      // The old token still authenticates a user route: it revokes itself.
      const revoked = await service.post('/token/revoke', { appId: tenant.app.id, token: oldToken });
      expect(revoked.body).toEqual({ code: 200, message: null, data: true });
    });

    it('reaches another instance: it signs with the new key after its refresh', async () => {
      await other.nest.get(SigningKeysService).refresh();
      const before = decodeJwt(await login(other)).header.kid;
      const rotated = await service.nest.get(SigningKeysService).rotate();
      expect(rotated.retired).toBe(before);

      await other.nest.get(SigningKeysService).refresh();
      const fromOther = await login(other);
      expect(decodeJwt(fromOther).header.kid).toBe(rotated.kid);
      expect((await introspect(fromOther)).body.data.active).toBe(true);
      expect((await jwks(other)).body.keys[0].kid).toBe(rotated.kid);
    });

    it('reaches another instance before its refresh: a token of an unknown kid makes it reload', async () => {
      await other.nest.get(SigningKeysService).refresh();
      const refreshedAt = Date.now();
      const rotated = await service.nest.get(SigningKeysService).rotate();
      // The other instance reloads for an unknown kid at most once a second.
      await sleep(Math.max(0, 1100 - (Date.now() - refreshedAt)));
      const fromFirst = await login(service);
      expect(decodeJwt(fromFirst).header.kid).toBe(rotated.kid);
      expect((await introspect(fromFirst, tenant, other)).body.data).toMatchObject({ active: true, jti: decodeJwt(fromFirst).claims.jti });
    });

    it('lets two rotations at once take turns, leaving one active key', async () => {
      const keys = service.nest.get(SigningKeysService);
      // Hold the active key's row so that both rotations are surely in flight at once.
      const blocker = service.dataSource.createQueryRunner();
      await blocker.connect();
      await blocker.startTransaction();
      await blocker.query('SELECT kid FROM signing_key WHERE retired_at IS NULL FOR UPDATE');
      const rotations = Promise.all([keys.rotate(), keys.rotate()]);
      await sleep(1500);
      await blocker.commitTransaction();
      await blocker.release();
      const [first, second] = await rotations;
      // The later one retired the key the earlier one made.
      const [earlier, later] = second.retired === first.kid ? [first, second] : [second, first];
      expect(later.retired).toBe(earlier.kid);
      const active = await service.dataSource.query('SELECT kid FROM signing_key WHERE retired_at IS NULL');
      expect(active).toEqual([{ kid: later.kid }]);
    });

    it('rotates from the CLI: keys rotate prints {kid, retired}; keys list shows them', async () => {
      const env = { DATABASE_URL: process.env.TEST_DATABASE_URL, MASTER_KEY: TEST_MASTER_KEY, DATA_DIR: mkdtempSync(join(tmpdir(), 'im-auth-keys-')) };
      const before = await activeKid();
      const rotated = await runCli(['keys', 'rotate'], env);
      expect(rotated.code).toBe(0);
      expect(Object.keys(rotated.json).sort()).toEqual(['kid', 'retired']);
      expect(rotated.json.retired).toBe(before);

      const listed = await runCli(['keys', 'list'], env);
      expect(listed.code).toBe(0);
      const byKid = new Map<string, any>(listed.json.map((key: any) => [key.kid, key]));
      expect(byKid.get(rotated.json.kid)).toMatchObject({ active: true, retired_at: null });
      expect(byKid.get(before)).toMatchObject({ active: false, retired_at: expect.any(String) });
      expect(listed.json.filter((key: any) => key.active)).toHaveLength(1);

      // This instance did not make the key: the JWKS re-reads the table and lists it first.
      expect((await jwks()).body.keys[0].kid).toBe(rotated.json.kid);
      await service.nest.get(SigningKeysService).refresh();
      expect(decodeJwt(await login()).header.kid).toBe(rotated.json.kid);
    });
  });

  describe('POST /token/introspect', () => {
    it('answers the claims of a valid token', async () => {
      const reply = await service.post('/token/user', {
        appId: tenant.app.id,
        body: { name: user.username, password: PASSWORD, device_guid: 'introspected-phone' },
      });
      const { token } = reply.body.data;
      const { claims } = decodeJwt(token);
      const introspected = await introspect(token);
      expect(introspected.status).toBe(200);
      expect(introspected.body).toEqual({
        code: 200,
        message: null,
        data: {
          active: true,
          sub: String(user.id),
          user_id: user.id,
          app_id: tenant.app.id,
          exp: claims.exp,
          iat: claims.iat,
          jti: claims.jti,
          device_sn: 1,
          token_type: 'access_token',
          iss: 'im-auth',
        },
      });
      expect(typeof introspected.body.data.user_id).toBe('number');
    });

    it('names the real caller (act) of a token issued during an impersonated call', async () => {
      const reply = await service.post('/token/user', {
        appId: tenant.app.id,
        token: tenant.adminToken,
        headers: { user_id: String(user.id) },
        body: { name: user.username, password: PASSWORD },
      });
      expect(reply.body.code).toBe(200);
      const data = (await introspect(reply.body.data.token)).body.data;
      expect(data.active).toBe(true);
      expect(data.act).toEqual({ sub: expect.stringMatching(/^admin:/) });
    });

    it('answers {active: false}, never an error, for anything that is not a valid access token of the app', async () => {
      const token = await login();
      const { header, claims } = decodeJwt(token);
      const active = service.nest.get(SigningKeysService).activeKey();
      const expired = sign({ ...claims, iat: (claims.iat as number) - 7200, exp: (claims.iat as number) - 3600 }, active.privateKey, {
        algorithm: 'RS256',
        keyid: active.kid,
      });
      const { privateKey: strangerKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const forged = sign(claims, strangerKey, { algorithm: 'RS256', keyid: header.kid as string });
      // Signed by our own key, so that only its jti (not a UUID, which the session table holds) is wrong.
      const oddJti = craftJwt({ ...header, kid: active.kid }, { ...claims, jti: 'not-a-uuid' }, active.privateKey);
      const unknownKid = sign(claims, strangerKey, { algorithm: 'RS256', keyid: 'no-such-key' });
      const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', kid: header.kid })).toString('base64url')}.${token.split('.')[1]}.`;

      const other = await service.createApp();
      const otherUser = await service.createUser(other.app, { username: 'someone_else' });
      const otherLogin = await service.post('/token/user', { appId: other.app.id, body: { name: otherUser.username, password: PASSWORD } });
      const storeToken = otherLogin.body.data.store_token;
      const ownStoreToken = (await service.post('/token/user', { appId: tenant.app.id, body: { name: user.username, password: PASSWORD } })).body
        .data.store_token;

      const cases: Array<[string, unknown]> = [
        ['garbage', 'not a token'],
        ['an empty string', ''],
        ['three dots of nothing', 'a.b.c'],
        ['an expired token', expired],
        ['a token signed by another key under a known kid', forged],
        ['a token signed by an unknown key', unknownKid],
        ['a token of ours whose jti is not a UUID', oddJti],
        ['an unsigned token', unsigned],
        ["another app's token", otherLogin.body.data.token],
        ["another app's store token", storeToken],
        ['a store token of this app', ownStoreToken],
        ['an admin token', tenant.adminToken],
      ];
      for (const [label, candidate] of cases) {
        const reply = await introspect(candidate);
        expect({ label, status: reply.status, body: reply.body }).toEqual({ label, status: 200, body: { code: 200, message: null, data: { active: false } } });
      }
      // The other app's admin sees its own token as active.
      expect((await introspect(otherLogin.body.data.token, other)).body.data.active).toBe(true);
    });

    it('answers {active: false} for a token without exp, or whose exp never comes, and a user route refuses it with 10008', async () => {
      const token = await login();
      const { header, claims } = decodeJwt(token);
      const active = service.nest.get(SigningKeysService).activeKey();
      // The claims of a live session, signed by our own key: only exp makes them unacceptable.
      const signed = (payload: unknown) => craftJwt({ ...header, kid: active.kid }, payload, active.privateKey);
      const { exp: _exp, ...noExp } = claims;
      expect((await introspect(signed(claims))).body.data.active).toBe(true);
      const cases: Array<[string, string]> = [
        ['no exp', signed(noExp)],
        ['exp 1e999, which JSON reads as Infinity', signed(`${JSON.stringify(noExp).slice(0, -1)},"exp":1e999}`)],
        ['exp null', signed({ ...noExp, exp: null })],
      ];
      for (const [label, eternal] of cases) {
        const introspected = await introspect(eternal);
        expect({ label, status: introspected.status, body: introspected.body }).toEqual({ label, status: 200, body: { code: 200, message: null, data: { active: false } } });
        const guarded = await service.call('GET', '/user/device/list', { appId: tenant.app.id, token: eternal });
        expect({ label, status: guarded.status, body: guarded.body }).toEqual({
          label,
          status: 401,
          body: { code: 10008, message: 'access-token signature or claims are invalid', data: null },
        });
      }
      // The session these tokens name is untouched: its real token still works.
      expect((await service.call('GET', '/user/device/list', { appId: tenant.app.id, token })).body.code).toBe(200);
    });

    it('needs an admin token of the app and a token in the body', async () => {
      const token = await login();
      expectError(await service.post('/token/introspect', { appId: tenant.app.id, body: { token } }), 401, 10003);
      expectError(await service.post('/token/introspect', { appId: tenant.app.id, token, body: { token } }), 403, 10010);
      expectError(await service.post('/token/introspect', { appId: tenant.app.id, token: tenant.adminToken, body: {} }), 400, 10002, /token is required/);
      expectError(await service.post('/token/introspect', { appId: tenant.app.id, token: tenant.adminToken, body: { token: 42 } }), 400, 10002, /token/);
    });
  });

  describe('POST /token/introspect for a verifying service', () => {
    it('takes a verifier token, which no admin route takes, and refuses impersonation headers', async () => {
      const token = await login();
      const asVerifier = await service.post('/token/introspect', { appId: tenant.app.id, token: verifierToken, body: { token } });
      expect(asVerifier.body.data).toMatchObject({ active: true, jti: decodeJwt(token).claims.jti });
      expectError(await service.call('GET', '/user/list?page_num=1&page_size=1', { appId: tenant.app.id, token: verifierToken }), 401, 10008, 'access-token is unknown or revoked');

      const other = await service.createApp();
      expectError(await service.post('/token/introspect', { appId: tenant.app.id, token: other.adminToken, body: { token } }), 401, 10008, 'access-token belongs to another app');
      expectError(
        await service.post('/token/introspect', { appId: tenant.app.id, token: tenant.adminToken, headers: { user_id: String(user.id) }, body: { token } }),
        400,
        10002,
        /user_id/,
      );
      const revokedVerifier = await service.nest.get(AdminTokensService).create(tenant.app.id, 'revoked at once', 'verifier');
      await service.nest.get(AdminTokensService).revoke(revokedVerifier.id);
      expectError(await service.post('/token/introspect', { appId: tenant.app.id, token: revokedVerifier.token, body: { token } }), 401, 10008, 'access-token is unknown or revoked');
    });

    it('checks the caller and the session in one statement', async () => {
      const token = await login();
      const revoked = await login();
      await service.post('/token/revoke', { appId: tenant.app.id, token: revoked });
      await introspect(token); // the app is cached by now
      const statements = jest.spyOn(Client.prototype, 'query');
      try {
        for (const [candidate, active] of [[token, true], [revoked, false], ['garbage', false]] as const) {
          statements.mockClear();
          expect((await introspect(candidate)).body.data.active).toBe(active);
          // The background refresh of the signing keys may run meanwhile: it is not the request's.
          const texts = statements.mock.calls.map(([query]) => (typeof query === 'string' ? query : (query as { text: string }).text));
          expect(texts.filter((text) => !text.includes('signing_key'))).toEqual([expect.stringMatching(/admin_token[\s\S]*session/)]);
        }
      } finally {
        statements.mockRestore();
      }
    });
  });

  describe('POST /token/introspect, concurrent calls', () => {
    /** One call and the reply it must get: the envelope, with the status it is mirrored as. */
    interface Call {
      label: string;
      credential: string;
      appId: string;
      token: string;
      status: number;
      body: { code: number; message: string | null; data: unknown };
    }
    const activeReply = (token: string) => {
      const { claims } = decodeJwt(token);
      const { sub, app_id, exp, iat, jti, iss } = claims;
      return { code: 200, message: null, data: { active: true, sub, user_id: Number(sub), app_id, exp, iat, jti, token_type: 'access_token', iss } };
    };
    const INACTIVE = { code: 200, message: null, data: { active: false } };
    const refusedReply = (message: string) => ({ code: 10008, message, data: null });

    /** Every kind of caller and of introspected token, each call's answer different from its neighbours'. */
    const mixOfCalls = async (): Promise<Call[]> => {
      const other = await service.createApp();
      const otherUser = await service.createUser(other.app, { username: `concurrent_${Date.now()}` });
      const othersToken = (await service.post('/token/user', { appId: other.app.id, body: { name: otherUser.username, password: PASSWORD } })).body.data.token;
      const [live, alsoLive, revoked] = [await login(), await login(), await login()];
      expect((await service.post('/token/revoke', { appId: tenant.app.id, token: revoked })).body.data).toBe(true);
      const admins = service.nest.get(AdminTokensService);
      const revokedAdmin = await admins.create(tenant.app.id, 'revoked at once');
      await admins.revoke(revokedAdmin.id);
      const { header, claims } = decodeJwt(live);
      const { privateKey: strangerKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      // Under a kid we know, so that checking it needs no reload of the keys (a database round trip of its own).
      const forged = sign(claims, strangerKey, { algorithm: 'RS256', keyid: header.kid as string });
      // Signed by our own key, so that only its jti (not a UUID, which the session table holds) is wrong.
      const active = service.nest.get(SigningKeysService).activeKey();
      const oddJti = craftJwt({ ...header, kid: active.kid }, { ...claims, jti: 'not-a-uuid' }, active.privateKey);
      const ours = { credential: tenant.adminToken, appId: tenant.app.id, status: 200 };
      const unknownCaller = { credential: revokedAdmin.token, appId: tenant.app.id, status: 401, body: refusedReply('access-token is unknown or revoked') };
      return [
        { ...ours, label: 'a live token', token: live, body: activeReply(live) },
        { ...ours, label: 'a live token, asked by a verifier token', credential: verifierToken, token: alsoLive, body: activeReply(alsoLive) },
        { ...ours, label: 'a revoked token', token: revoked, body: INACTIVE },
        { ...ours, label: "another app's token", token: othersToken, body: INACTIVE },
        { ...ours, label: "another app's token, asked by that app", credential: other.adminToken, appId: other.app.id, token: othersToken, body: activeReply(othersToken) },
        { ...ours, label: 'a token that does not verify', token: 'not a token', body: INACTIVE },
        { ...ours, label: 'a token signed by another key', token: forged, body: INACTIVE },
        { ...ours, label: 'a token of ours whose jti is not a UUID', token: oddJti, body: INACTIVE },
        { ...unknownCaller, label: 'a live token, asked by a revoked admin token', token: live },
        { ...unknownCaller, label: 'a token that does not verify, asked by a revoked admin token', token: 'not a token' },
        { ...ours, label: "a live token, asked by another app's admin token", credential: other.adminToken, token: live, status: 401, body: refusedReply('access-token belongs to another app') },
      ];
    };
    const expected = (calls: Call[]) => calls.map(({ label, status, body }) => ({ label, status, body }));
    /** The texts of the statements sent while `during` runs, but for the background refresh of the signing keys. */
    const statementsDuring = async <T>(during: () => Promise<T>): Promise<{ result: T; texts: string[] }> => {
      const statements = jest.spyOn(Client.prototype, 'query');
      try {
        const result = await during();
        const texts = statements.mock.calls.map(([query]) => (typeof query === 'string' ? query : (query as { text: string }).text));
        return { result, texts: texts.filter((text) => !text.includes('signing_key')) };
      } finally {
        statements.mockRestore();
      }
    };
    const INTROSPECTION_STATEMENT = /admin_token[\s\S]*session/;

    it('answers every one of many concurrent calls with its own answer, in at most one statement each', async () => {
      const mix = await mixOfCalls();
      const mixed = Array.from({ length: 5 }, () => mix).flat();
      const send = async () => {
        const replies = await Promise.all(mixed.map((call) => service.post('/token/introspect', { appId: call.appId, token: call.credential, body: { token: call.token } })));
        return replies.map((reply, index) => ({ label: mixed[index].label, status: reply.status, body: reply.body }));
      };
      // Twice: the second time on the connections the first opened, so that the requests arrive together.
      expect(await send()).toEqual(expected(mixed));
      const { result: answered, texts } = await statementsDuring(send);
      expect(answered).toEqual(expected(mixed));
      const introspections = texts.filter((text) => INTROSPECTION_STATEMENT.test(text));
      expect(introspections.length).toBeGreaterThanOrEqual(1);
      expect(introspections.length).toBeLessThanOrEqual(mixed.length);
    });

    it('answers the calls that reach the database in one turn with one statement, a row each, and splits them at the bound', async () => {
      const mix = await mixOfCalls();
      const introspection = service.nest.get(Introspection);
      // The reply, or the refusal, in the envelope the route would answer with.
      const outcomeOf = (call: Call) =>
        introspection.introspect(call.credential, call.appId, call.token).then(
          (data) => ({ label: call.label, status: 200, body: { code: 200, message: null, data } }),
          (error: ApiError) => ({ label: call.label, status: error.definition.status, body: { code: error.definition.code, message: error.message, data: null } }),
        );

      const oneTurn = await statementsDuring(() => Promise.all(mix.map(outcomeOf)));
      expect(oneTurn.result).toEqual(expected(mix));
      expect(oneTurn.texts).toEqual([expect.stringMatching(INTROSPECTION_STATEMENT)]);

      const many = Array.from({ length: DEFAULT_BATCH_BOUND + mix.length }, (_, index) => mix[index % mix.length]);
      const overTheBound = await statementsDuring(() => Promise.all(many.map(outcomeOf)));
      expect(overTheBound.result).toEqual(expected(many));
      expect(overTheBound.texts).toEqual([expect.stringMatching(INTROSPECTION_STATEMENT), expect.stringMatching(INTROSPECTION_STATEMENT)]);
    });
  });

  describe('AccessTokenVerifier.check', () => {
    /** What the verifier answered before Rs256Jws: jsonwebtoken's decode and verify (the session check left out). */
    const jsonwebtokenVerdict = async (token: string, appId: string): Promise<string> => {
      let decoded;
      try {
        decoded = decode(token, { complete: true });
      } catch {
        return 'throws';
      }
      const kid = decoded?.header.kid;
      if (!decoded || typeof decoded.payload === 'string' || typeof kid !== 'string' || !kid) return 'access-token is malformed';
      const key = await service.nest.get(SigningKeysService).verificationKey(kid);
      if (!key) return 'access-token is signed by an unknown key';
      let claims: Record<string, unknown>;
      try {
        claims = verify(token, key, { algorithms: ['RS256'], issuer: 'im-auth' }) as typeof claims;
      } catch (error) {
        return error instanceof TokenExpiredError ? 'access-token has expired' : 'access-token signature or claims are invalid';
      }
      if (claims.scope !== undefined) return 'access-token is not an access token';
      if (claims.app_id !== appId) return 'access-token was issued for another app';
      return 'valid';
    };
    const verdict = async (token: string, appId: string = tenant.app.id) => {
      const checked = await service.nest.get(AccessTokenVerifier).check(token, appId);
      return checked.valid ? 'valid' : checked.reason;
    };

    it("gives jsonwebtoken's verdict, with its reason, on tokens of every kind", async () => {
      const { header, claims } = decodeJwt(await login());
      const active = service.nest.get(SigningKeysService).activeKey();
      const now = Math.floor(Date.now() / 1000);
      const ours = { ...header, kid: active.kid };
      const signed = (payload: unknown, head: unknown = ours) => craftJwt(head, payload, active.privateKey);
      const without = (name: string) => Object.fromEntries(Object.entries(claims).filter(([key]) => key !== name));
      const { privateKey: strangerKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const valid = signed(claims);
      const [headerPart, payloadPart] = valid.split('.');

      const cases: Array<[string, string, string]> = [
        ['valid', valid, 'valid'],
        ['no typ', signed(claims, { alg: 'RS256', kid: active.kid }), 'valid'],
        ['iat a string, sub a number', signed({ ...claims, iat: 'yesterday', sub: 7 }), 'valid'],
        ['not before a moment ago', signed({ ...claims, nbf: now - 1 }), 'valid'],
        ['expired', signed({ ...claims, exp: now - 1 }), 'access-token has expired'],
        ['exp a string', signed({ ...claims, exp: String(now + 600) }), 'access-token signature or claims are invalid'],
        ['exp null', signed({ ...claims, exp: null }), 'access-token signature or claims are invalid'],
        ['not valid yet', signed({ ...claims, nbf: now + 60 }), 'access-token signature or claims are invalid'],
        ['not valid yet and expired', signed({ ...claims, nbf: now + 60, exp: now - 1 }), 'access-token signature or claims are invalid'],
        ['nbf a string', signed({ ...claims, nbf: String(now) }), 'access-token signature or claims are invalid'],
        ['another issuer', signed({ ...claims, iss: 'someone-else' }), 'access-token signature or claims are invalid'],
        ['no issuer', signed(without('iss')), 'access-token signature or claims are invalid'],
        ['claims an array', signed([claims]), 'access-token signature or claims are invalid'],
        ['claims a string', signed('"claims"'), 'access-token is malformed'],
        ['a store token', signed({ ...claims, scope: 'file' }), 'access-token is not an access token'],
        ['another app', signed({ ...claims, app_id: 'another-app' }), 'access-token was issued for another app'],
        ['HS256 under our kid', craftJwt({ ...ours, alg: 'HS256' }, claims, 'secret'), 'access-token signature or claims are invalid'],
        ['HS256 under an unknown kid', craftJwt({ ...ours, alg: 'HS256', kid: 'nope' }, claims, 'secret'), 'access-token is signed by an unknown key'],
        ['HS256 without a kid', craftJwt({ alg: 'HS256', typ: 'JWT' }, claims, 'secret'), 'access-token is malformed'],
        ['unsigned under our kid', `${b64({ alg: 'none', kid: active.kid })}.${payloadPart}.`, 'access-token signature or claims are invalid'],
        ['RS384 under our kid', `${b64({ ...ours, alg: 'RS384' })}.${payloadPart}.${valid.split('.')[2]}`, 'access-token signature or claims are invalid'],
        ['an empty kid', signed(claims, { ...ours, kid: '' }), 'access-token is malformed'],
        ['a kid that is a number', signed(claims, { ...ours, kid: 7 }), 'access-token is malformed'],
        ['header null', signed(claims, null), 'access-token is malformed'],
        ['header not JSON', `${b64('{')}.${payloadPart}.${valid.split('.')[2]}`, 'access-token is malformed'],
        ['signed by another key under our kid', craftJwt(ours, claims, strangerKey), 'access-token signature or claims are invalid'],
        ['signed by an unknown key', craftJwt({ ...ours, kid: 'no-such-key' }, claims, strangerKey), 'access-token is signed by an unknown key'],
        ['payload swapped', `${headerPart}.${b64({ ...claims, sub: '1' })}.${valid.split('.')[2]}`, 'access-token signature or claims are invalid'],
        ['no signature', `${headerPart}.${payloadPart}.`, 'access-token signature or claims are invalid'],
        ['signature cut', valid.slice(0, -10), 'access-token signature or claims are invalid'],
        ['signature with padding', `${valid}=`, 'access-token is malformed'],
        ['four parts', `${valid}.x`, 'access-token is malformed'],
        ['two parts', `${headerPart}.${payloadPart}`, 'access-token is malformed'],
        ['three dots of nothing', 'a.b.c', 'access-token is malformed'],
        ['garbage', 'not a token', 'access-token is malformed'],
        ['empty', '', 'access-token is malformed'],
      ];
      for (const [name, token, reason] of cases) {
        // Twice: the second time the header is the cached one.
        for (let round = 0; round < 2; round++) {
          expect({ name, before: await jsonwebtokenVerdict(token, tenant.app.id) }).toEqual({ name, before: reason });
          expect({ name, now: await verdict(token) }).toEqual({ name, now: reason });
        }
      }
    });

    it('differs from jsonwebtoken on a token without a finite exp, on a second spelling of a token, on garbage claims, and on an expired token wrong in another way', async () => {
      const { header, claims } = decodeJwt(await login());
      const active = service.nest.get(SigningKeysService).activeKey();
      const valid = craftJwt({ ...header, kid: active.kid }, claims, active.privateKey);
      // Expired and of another issuer: jsonwebtoken said expired first. Expiry is now checked last,
      // since "expired" alone is the re-login signal 402, which a token wrong otherwise must not get.
      const expiredElsewhere = craftJwt({ ...header, kid: active.kid }, { ...claims, exp: Math.floor(Date.now() / 1000) - 1, iss: 'someone-else' }, active.privateKey);
      expect(await jsonwebtokenVerdict(expiredElsewhere, tenant.app.id)).toBe('access-token has expired');
      expect(await verdict(expiredElsewhere)).toBe('access-token signature or claims are invalid');
      // No exp, or 1e999 (JSON for Infinity): jsonwebtoken took either as a token that never
      // expires; our issuer always sets a real exp, so now neither is a token of ours.
      const { exp, ...noExp } = claims;
      expect(typeof exp).toBe('number');
      const withoutExp = craftJwt({ ...header, kid: active.kid }, noExp, active.privateKey);
      const infiniteExp = craftJwt({ ...header, kid: active.kid }, `${JSON.stringify(noExp).slice(0, -1)},"exp":1e999}`, active.privateKey);
      for (const eternal of [withoutExp, infiniteExp]) {
        expect(await jsonwebtokenVerdict(eternal, tenant.app.id)).toBe('valid');
        expect(await verdict(eternal)).toBe('access-token signature or claims are invalid');
      }
      const [headerPart, payloadPart, signaturePart] = valid.split('.');
      // A 256-byte signature ends in a character of 4 bits and 2 unused ones: with an unused bit
      // set it decodes to the same bytes. jsonwebtoken took that second spelling; now it is malformed.
      const respelled = respelledSignature(valid);
      expect(await jsonwebtokenVerdict(respelled, tenant.app.id)).toBe('valid');
      expect(await verdict(respelled)).toBe('access-token is malformed');
      expect(await verdict(valid)).toBe('valid');
      // Claims that are not JSON behind a header saying typ JWT: jsonwebtoken's decode threw (a 500 reply); now a refusal.
      const notJson = craftJwt({ ...header, kid: active.kid }, 'not json {', active.privateKey);
      expect(await jsonwebtokenVerdict(notJson, tenant.app.id)).toBe('throws');
      expect(await verdict(notJson)).toBe('access-token is malformed');
      // Claims null, under our signature: jsonwebtoken's verify threw a TypeError on them (invalid); now malformed.
      const nullClaims = craftJwt({ ...header, kid: active.kid }, null, active.privateKey);
      expect(await jsonwebtokenVerdict(nullClaims, tenant.app.id)).toBe('access-token signature or claims are invalid');
      expect(await verdict(nullClaims)).toBe('access-token is malformed');
      // Claims not base64url: jsonwebtoken refused them as malformed at once; now the signature, over the text, refuses them.
      const badClaims = `${headerPart}.${payloadPart.slice(0, -1)}!.${signaturePart}`;
      expect(await jsonwebtokenVerdict(badClaims, tenant.app.id)).toBe('access-token is malformed');
      expect(await verdict(badClaims)).toBe('access-token signature or claims are invalid');
    });

    it('refuses a token of a revoked session, and a token whose jti has no session', async () => {
      const token = await login();
      const { header, claims } = decodeJwt(token);
      const active = service.nest.get(SigningKeysService).activeKey();
      expect(await verdict(craftJwt({ ...header, kid: active.kid }, { ...claims, jti: randomUUID() }, active.privateKey))).toBe(
        'access-token has been revoked',
      );
      await service.dataSource.query('UPDATE session SET revoked_at = now() WHERE jti = $1', [claims.jti]);
      expect(await verdict(token)).toBe('access-token has been revoked');
    });
  });

  describe('POST /token/revoke', () => {
    it('revokes the caller’s own token: introspection says inactive at once, and the jti is in the log', async () => {
      const { cursor } = (await revocations()).body.data;
      const token = await login();
      const keeper = await login();
      const jti = decodeJwt(token).claims.jti;

      const reply = await service.post('/token/revoke', { appId: tenant.app.id, token });
      expect(reply.body).toEqual({ code: 200, message: null, data: true });

      expect((await introspect(token)).body.data).toEqual({ active: false });
      expect((await introspect(keeper)).body.data.active).toBe(true);
      expectError(await service.post('/token/revoke', { appId: tenant.app.id, token }), 401, 10008, /revoked/);

      const log = (await revocations(cursor)).body.data;
      expect(log.jtis).toContain(jti);
      expect(log.cursor).toBeGreaterThan(cursor);
    });

    it('refuses an admin token, an impersonated user token, a token in the body, and no token', async () => {
      const token = await login();
      expectError(
        await service.post('/token/revoke', { appId: tenant.app.id, token: tenant.adminToken, headers: { user_id: String(user.id) } }),
        403,
        10010,
      );
      // A group owner acting for a member may not revoke the member's token, nor its own.
      const owner = await service.createUser(tenant.app, { username: 'revoking_owner' });
      const synced = await service.call('PUT', '/group/sync', {
        appId: tenant.app.id,
        token: tenant.adminToken,
        body: { group_id: '7001', members: [{ user_id: owner.id, role: 'owner' }, { user_id: user.id, role: 'member' }] },
      });
      expect(synced.body.data).toBe(true);
      const ownerToken = (await service.post('/token/user', { appId: tenant.app.id, body: { name: owner.username, password: PASSWORD } })).body.data.token;
      expectError(await service.post('/token/revoke', { appId: tenant.app.id, token: ownerToken, headers: { user_id: String(user.id) } }), 403, 10010);
      expect((await introspect(ownerToken)).body.data.active).toBe(true);
      expectError(await service.post('/token/revoke', { appId: tenant.app.id, token, body: { token } }), 400, 10002, /token in the body/);
      expectError(await service.post('/token/revoke', { appId: tenant.app.id }), 401, 10003);
      expect((await introspect(token)).body.data.active).toBe(true);
    });
  });

  describe('GET /token/revocations', () => {
    const revokeOne = async (): Promise<string> => {
      const token = await login();
      expect((await service.post('/token/revoke', { appId: tenant.app.id, token })).body.data).toBe(true);
      return decodeJwt(token).claims.jti as string;
    };
    // Without parameters (the simple query protocol): on the embedded database, an extended-protocol
    // statement sent while another connection's transaction is open can be bound to that one's.
    const insertRevocations = (count: number, expiresIn = '1 hour', appId = tenant.app.id): Promise<Array<{ jti: string }>> => {
      if (!/^[\w-]+$/.test(appId) || !/^-?\d+ \w+$/.test(expiresIn) || !Number.isInteger(count)) throw new Error('not a test value');
      return service.dataSource.query(
        `INSERT INTO revocation (app_id, jti, expires_at)
         SELECT '${appId}', gen_random_uuid(), now() + interval '${expiresIn}' FROM generate_series(1, ${count}) RETURNING jti`,
      );
    };

    it("pages through the app's log by cursor, for an admin or a verifier token of the app", async () => {
      const start = (await revocations()).body.data.cursor as number;
      const jtis = [await revokeOne(), await revokeOne(), await revokeOne()];

      const reply = await revocations(start);
      expect(reply.status).toBe(200);
      expect(reply.headers.get('cache-control')).toBe('no-store');
      const mine = (reply.body.data.jtis as string[]).filter((jti) => jtis.includes(jti));
      expect(mine).toEqual(jtis);
      const asVerifier = await revocations(start, verifierToken);
      expect(asVerifier.body.data).toEqual(reply.body.data);

      const after = await revocations(reply.body.data.cursor);
      expect(after.body.data.jtis).not.toContain(jtis[2]);
      expect(after.body.data.cursor).toBeGreaterThanOrEqual(reply.body.data.cursor);

      const log = service.nest.get(RevocationLog);
      const first = await log.since(tenant.adminToken, tenant.app.id, start, 1);
      expect(first.jtis).toHaveLength(1);
      const rest = await log.since(tenant.adminToken, tenant.app.id, first.cursor);
      expect([...first.jtis, ...rest.jtis].filter((jti) => jtis.includes(jti))).toEqual(jtis);
    });

    it("lists only the caller's app, and refuses anyone who is not an admin or verifier of it", async () => {
      const other = await service.createApp();
      const [{ jti: othersJti }] = await insertRevocations(1, '1 hour', other.app.id);
      const mine = await revokeOne();
      expect((await revocations()).body.data.jtis).toContain(mine);
      expect((await revocations()).body.data.jtis).not.toContain(othersJti);
      const asOther = await service.call('GET', '/token/revocations', { appId: other.app.id, token: other.adminToken });
      expect(asOther.body.data.jtis).toEqual([othersJti]);

      const poll = (headers: { appId?: string; token?: string; headers?: Record<string, string> }) =>
        service.call('GET', '/token/revocations', { appId: tenant.app.id, ...headers });
      expectError(await poll({ token: undefined }), 401, 10003);
      expectError(await poll({ token: other.adminToken }), 401, 10008, 'access-token belongs to another app');
      expectError(await poll({ token: `adm_${'x'.repeat(43)}` }), 401, 10008, 'access-token is unknown or revoked');
      expectError(await poll({ token: await login() }), 403, 10010);
      expectError(await poll({ token: tenant.adminToken, headers: { user_id: String(user.id) } }), 400, 10002, /user_id/);
      expectError(await service.call('GET', '/token/revocations', { token: tenant.adminToken }), 400, 10002, /app_id/);
    });

    if (process.env.TEST_DATABASE_KIND === 'server') {
      it("never skips a revocation that commits late, and never waits for one: an app's revocations are logged one at a time", async () => {
        const start = (await revocations()).body.data.cursor as number;
        const [early, late] = [decodeJwt(await login()).claims.jti as string, decodeJwt(await login()).claims.jti as string];
        const revoker = service.nest.get(SessionRevoker);
        // The first revocation holds its transaction open, and with it the app's log lock.
        const slow = service.dataSource.createQueryRunner();
        await slow.connect();
        await slow.startTransaction();
        expect(await revoker.revoke({ appId: tenant.app.id, jti: early }, slow.manager)).toBe(1);
        // The second waits for that lock: it cannot take a later position and commit first.
        let lateDone = false;
        const lateRevocation = revoker.revoke({ appId: tenant.app.id, jti: late }).then((count) => ((lateDone = true), count));
        await waitFor(async () => (await service.dataSource.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)).length === 1);
        // A poll meanwhile takes no lock: it answers at once, with neither.
        const during = (await revocations(start)).body.data.jtis as string[];
        expect(during.filter((jti) => jti === early || jti === late)).toEqual([]);
        expect(lateDone).toBe(false);

        await slow.commitTransaction();
        await slow.release();
        expect(await lateRevocation).toBe(1);
        const jtis = (await revocations(start)).body.data.jtis as string[];
        expect(jtis.filter((jti) => jti === early || jti === late)).toEqual([early, late]);
      });
    } else {
      // The late-commit race needs two transactions at once; the embedded database runs them one
      // at a time. This pins that premise, so the server-only test above is not a blind spot.
      it('cannot meet the late-commit race on the embedded database: a second writer waits for the open transaction', async () => {
        const start = (await revocations()).body.data.cursor as number;
        const slow = service.dataSource.createQueryRunner();
        await slow.connect();
        await slow.startTransaction();
        const [{ jti: early }] = await slow.query(
          `INSERT INTO revocation (app_id, jti, expires_at) VALUES ('${tenant.app.id}', gen_random_uuid(), now() + interval '1 hour') RETURNING jti`,
        );
        let lateDone = false;
        const lateInsert = insertRevocations(1).then((rows) => {
          lateDone = true;
          return rows[0].jti;
        });
        await sleep(300);
        expect(lateDone).toBe(false);
        await slow.commitTransaction();
        await slow.release();
        const late = await lateInsert;
        const jtis = (await revocations(start)).body.data.jtis as string[];
        expect(jtis.filter((jti) => jti === early || jti === late)).toEqual([early, late]);
      });
    }

    it('answers at most 1000 jtis a call; the next call continues from the cursor', async () => {
      const start = (await revocations()).body.data.cursor as number;
      await insertRevocations(1001);
      const full = (await revocations(start)).body.data;
      expect(full.jtis).toHaveLength(1000);
      const next = (await revocations(full.cursor)).body.data;
      expect(next.jtis.length).toBeGreaterThanOrEqual(1);
      expect(next.jtis).not.toContain(full.jtis[999]);
    });

    it('leaves out revocations of expired tokens, and purges them', async () => {
      const start = (await revocations()).body.data.cursor as number;
      const [{ jti }] = await insertRevocations(1, '-1 second');
      expect((await revocations(start)).body.data.jtis).not.toContain(jti);
      expect(await service.nest.get(RevocationLog).purge()).toBeGreaterThanOrEqual(1);
      expect(await service.dataSource.query('SELECT 1 FROM revocation WHERE jti = $1', [jti])).toHaveLength(0);
    });

    it('starts from the beginning without since, and refuses a since that is not a non-negative integer', async () => {
      expect((await revocations()).body.code).toBe(200);
      for (const bad of ['-1', 'abc', '1.5']) expectError(await revocations(bad), 400, 10002, /since/);
    });
  });

  describe('session purge', () => {
    /** Sessions of the test user that expired `daysAgo` days ago (a negative number: still to expire). */
    const insertSessions = async (count: number, daysAgo: number): Promise<string[]> => {
      const rows: Array<{ jti: string }> = await service.dataSource.query(
        `INSERT INTO session (jti, app_id, user_id, issued_at, expires_at)
         SELECT gen_random_uuid(), $1, $2, now() - make_interval(days => $3 + 1), now() - make_interval(days => $3)
           FROM generate_series(1, $4) RETURNING jti`,
        [tenant.app.id, user.id, daysAgo, count],
      );
      return rows.map((row) => row.jti);
    };
    const remaining = async (jtis: string[]): Promise<number> =>
      (await service.dataSource.query('SELECT count(*)::int AS n FROM session WHERE jti = ANY($1::uuid[])', [jtis]))[0].n;

    it('deletes the sessions expired longer than SESSION_RETENTION_DAYS (30), in batches, and keeps the others', async () => {
      const old = await insertSessions(5001, 31); // more than one batch of the purge
      const [recent] = await insertSessions(1, 29);
      const [live] = await insertSessions(1, -1);
      expect(await service.nest.get(SessionPurge).purge()).toBeGreaterThanOrEqual(5001);
      expect(await remaining(old)).toBe(0);
      expect(await remaining([recent, live])).toBe(2);
    });

    it('answers an expired token 402 while its session is kept, and 10008 once it is purged', async () => {
      const [jti] = await insertSessions(1, 31);
      const { header, claims } = decodeJwt(await login());
      const active = service.nest.get(SigningKeysService).activeKey();
      const expiredAt = Math.floor(Date.now() / 1000) - 31 * 86400;
      const expired = craftJwt({ ...header, kid: active.kid }, { ...claims, jti, iat: expiredAt - 3600, exp: expiredAt }, active.privateKey);
      const call = () => service.call('GET', '/user/device/list', { appId: tenant.app.id, token: expired });
      expect((await call()).body).toMatchObject({ code: 402 });
      await service.nest.get(SessionPurge).purge();
      expect((await call()).body).toMatchObject({ code: 10008 });
    });
  });
});

describe('POST /token/introspect while the database is unreachable', () => {
  // An instance of its own, on a link to the database it can cut. Not alongside the instances above:
  // those are closed by now, so the process-wide Passport strategies are this one's (test-service.ts).
  const link = new DatabaseLink();
  let service: TestService;
  let tenant: TestApp;
  let token: string;

  beforeAll(async () => {
    await link.open();
    service = await TestService.start({}, { databaseUrl: link.url() });
    tenant = await service.createApp();
    const user = await service.createUser(tenant.app, { username: 'introspected_offline' });
    token = (await service.post('/token/user', { appId: tenant.app.id, body: { name: user.username, password: PASSWORD } })).body.data.token;
  });
  afterAll(async () => {
    await service.close();
    await link.cut();
  });

  const introspect = () => service.post('/token/introspect', { appId: tenant.app.id, token: tenant.adminToken, body: { token } });

  it('fails every call of a batch with the same error, answered 503 (code 20000), and answers again once the database is back', async () => {
    expect((await introspect()).body.data.active).toBe(true); // the app is cached by now
    await link.cut();
    try {
      const replies = await Promise.all(Array.from({ length: 8 }, introspect));
      for (const reply of replies) expect({ status: reply.status, body: reply.body }).toEqual({ status: 503, body: { code: 20000, message: expect.any(String), data: null } });

      const introspection = service.nest.get(Introspection);
      const calls = Array.from({ length: 4 }, () => introspection.introspect(tenant.adminToken, tenant.app.id, token).then(() => 'answered', (error: unknown) => error));
      const [first, ...rest] = await Promise.all(calls);
      expect(isDatabaseUnavailable(first)).toBe(true);
      for (const error of rest) expect(error).toBe(first);
    } finally {
      await link.open();
    }
    await eventually(5000, async () => expect((await introspect()).body).toEqual({ code: 200, message: null, data: expect.objectContaining({ active: true }) }));
  });
});
