/**
 * Signing-key changes reaching everyone: `keys rotate` and `keys revoke` from the CLI reach a
 * running instance within two seconds (NOTIFY on a server; the embedded database's instance
 * re-reads every second), and a revoked key leaves the JWKS and verification, takes the sessions
 * it may have signed with it, and stops verifying in a service that follows the JWKS
 * (libs/auth-client) within its refresh interval.
 *
 * On a database of its own: revoking the active key revokes every session issued around its
 * time, which on the shared test database would be the other test files' sessions. On a server,
 * a fresh database; embedded, one that `npm start` owns in a child process (Jest cannot open
 * PGlite in its sandbox), which the service under test joins through its socket, as the CLI does.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenRejected, TokenVerifier, type VerifiedPrincipal } from '../../libs/auth-client/src';
import { TestService, TEST_MASTER_KEY, decodeJwt, expectError, type TestApp } from '../support/test-service';
import { eventually } from '../support/eventually';
import { createTestDatabase } from '../support/test-database';
import { openEmbeddedPostgres } from '../../libs/persistence/src';
import { craftJwt } from '../support/crafted-jwt';
import { runCli, startServiceProcess } from '../support/processes';
import { SigningKeysService } from '../../apps/auth/src/signing-keys/signing-keys.service';
import { AdminTokensService } from '../../apps/auth/src/admin-tokens/admin-tokens.service';
import type { UserEntity } from '../../apps/auth/src/users/user.entity';

const PASSWORD = 'correct horse battery';

function verdict(run: () => VerifiedPrincipal): string {
  try {
    run();
    return 'accepted';
  } catch (error) {
    if (error instanceof TokenRejected) return error.message;
    throw error;
  }
}

/** A migrated database of this file's own: its URL, and how to drop it. */
async function ownDatabase(): Promise<{ url: string; dispose(): Promise<unknown> }> {
  if (process.env.TEST_DATABASE_KIND === 'server') return createTestDatabase(process.env.DATABASE_URL);
  const dataDir = mkdtempSync(join(tmpdir(), 'im-auth-keys-db-'));
  const owner = await startServiceProcess({ DATA_DIR: dataDir, MASTER_KEY: TEST_MASTER_KEY, SEED_DEMO: 'false' });
  // Joins the running owner's database through its socket, as the CLI does.
  const joined = await openEmbeddedPostgres(dataDir);
  return { url: joined.url, dispose: () => owner.stop() };
}

describe('signing-key changes from the CLI', () => {
  let database: { url: string; dispose(): Promise<unknown> };
  let service: TestService;
  let tenant: TestApp;
  let user: UserEntity;
  let cliEnv: Record<string, string | undefined>;
  let consumer: TokenVerifier;
  /** The consumer fetches the JWKS at least this often. */
  const jwksRefreshMs = 500;

  beforeAll(async () => {
    database = await ownDatabase();
    service = await TestService.start({}, { databaseUrl: database.url });
    // Without its 30 s background refresh, only a notification (or, on the embedded database, the
    // follower's one-second re-read) can make this instance see a change made by the CLI.
    clearInterval((service.nest.get(SigningKeysService) as unknown as { refreshTimer: NodeJS.Timeout }).refreshTimer);
    tenant = await service.createApp();
    user = await service.createUser(tenant.app, { username: 'key_holder' });
    cliEnv = { DATABASE_URL: database.url, MASTER_KEY: TEST_MASTER_KEY, DATA_DIR: mkdtempSync(join(tmpdir(), 'im-auth-keys-cli-')) };
    const verifierToken = (await service.nest.get(AdminTokensService).create(tenant.app.id, 'consumer', 'verifier')).token;
    consumer = new TokenVerifier({ baseUrl: service.baseUrl, apps: [{ appId: tenant.app.id, token: verifierToken }], revocationPollMs: 200, jwksRefreshMs });
    await consumer.start();
  });
  afterAll(async () => {
    consumer?.stop();
    await service?.close();
    await database?.dispose();
  });

  const login = async (): Promise<string> => {
    const reply = await service.post('/token/user', { appId: tenant.app.id, body: { name: user.username, password: PASSWORD } });
    expect(reply.body.code).toBe(200);
    return reply.body.data.token as string;
  };
  const kidOf = (token: string) => decodeJwt(token).header.kid as string;
  const publishedKids = async () => ((await service.call('GET', '/.well-known/jwks.json')).body.keys as Array<{ kid: string }>).map((key) => key.kid);

  it('rotates: the running instance signs with the new key within two seconds, without waiting for its 30 s refresh', async () => {
    const before = kidOf(await login());
    const rotated = await runCli(['keys', 'rotate'], cliEnv);
    expect(rotated.code).toBe(0);
    expect(rotated.json).toEqual({ kid: expect.any(String), retired: before });
    const took = await eventually(5000, async () => expect(kidOf(await login())).toBe(rotated.json.kid));
    expect(took).toBeLessThan(2000);
  });

  it("revokes the active key: a new one signs, the old one leaves the JWKS, stops verifying here and in a consumer, and takes its sessions", async () => {
    const token = await login();
    const revokedKid = kidOf(token);
    // Minted with the key itself, as whoever leaked it could: no session of ours, yet a consumer verifying locally takes it.
    const active = service.nest.get(SigningKeysService).activeKey();
    const forged = craftJwt(decodeJwt(token).header, { ...decodeJwt(token).claims, jti: randomUUID() }, active.privateKey);
    // Verified here before (so the service remembers its signature), and by the consumer
    // (verify: the key was made by the previous test's rotation, and it may not have fetched it yet).
    expect((await service.call('GET', '/user/device/list', { appId: tenant.app.id, token })).body.code).toBe(200);
    expect(await consumer.verify(forged, tenant.app.id)).toMatchObject({ userId: user.id });

    const revoked = await runCli(['keys', 'revoke', revokedKid], cliEnv);
    expect(revoked.code).toBe(0);
    expect(revoked.json).toEqual({ kid: revokedKid, revoked_at: expect.any(String), replaced_by: expect.any(String), sessions_revoked: expect.any(Number) });
    expect(revoked.json.sessions_revoked).toBeGreaterThanOrEqual(1);

    const took = await eventually(5000, async () => {
      expect(await publishedKids()).not.toContain(revokedKid);
      expect(kidOf(await login())).toBe(revoked.json.replaced_by);
    });
    expect(took).toBeLessThan(2000);
    expect(await publishedKids()).toContain(revoked.json.replaced_by);
    expectError(await service.call('GET', '/user/device/list', { appId: tenant.app.id, token }), 401, 10008, 'access-token is signed by an unknown key');
    const introspected = await service.post('/token/introspect', { appId: tenant.app.id, token: tenant.adminToken, body: { token } });
    expect(introspected.body.data).toEqual({ active: false });
    const log = await service.call('GET', '/token/revocations', { appId: tenant.app.id, token: tenant.adminToken });
    expect(log.body.data.jtis).toContain(decodeJwt(token).claims.jti);

    // The consumer drops the key at its next JWKS fetch; the forged token has no session to revoke.
    const dropped = await eventually(5000, () => expect(verdict(() => consumer.verifySync(forged, tenant.app.id))).toBe('access-token is signed by an unknown key'));
    expect(dropped).toBeLessThan(jwksRefreshMs + 1500);
    // Tokens of the key that replaced it verify (fetching the JWKS, as the guard does, should the consumer not have it yet).
    expect(await consumer.verify(await login(), tenant.app.id)).toMatchObject({ userId: user.id });
  });

  it('revokes the sessions a key may have signed, and no others; revoking it again changes nothing', async () => {
    // A key that signed two days ago (made here), and sessions issued then and now.
    const kid = `leaked-${randomUUID().slice(0, 8)}`;
    await service.dataSource.query(
      `INSERT INTO signing_key (kid, algorithm, public_key, private_key_sealed, created_at, retired_at)
       VALUES ($1, 'RS256', (SELECT public_key FROM signing_key LIMIT 1), 'v1.x.x.x', now() - interval '3 days', now() - interval '2 days')`,
      [kid],
    );
    const session = async (issuedAgo: string): Promise<string> => {
      const [{ jti }] = await service.dataSource.query(
        `INSERT INTO session (jti, app_id, user_id, issued_at, expires_at) VALUES (gen_random_uuid(), $1, $2, now() - $3::interval, now() + interval '1 day') RETURNING jti`,
        [tenant.app.id, user.id, issuedAgo],
      );
      return jti;
    };
    const [during, before, after] = [await session('2 days 12 hours'), await session('3 days 2 minutes'), await session('1 day')];

    const revoked = await runCli(['keys', 'revoke', kid], cliEnv);
    expect(revoked.json).toMatchObject({ kid, replaced_by: null, sessions_revoked: 1 });
    const live = async (jti: string) => (await service.dataSource.query('SELECT revoked_at IS NULL AS live FROM session WHERE jti = $1', [jti]))[0].live;
    expect({ during: await live(during), before: await live(before), after: await live(after) }).toEqual({ during: false, before: true, after: true });

    const again = await runCli(['keys', 'revoke', kid], cliEnv);
    expect(again.json).toEqual({ kid, revoked_at: revoked.json.revoked_at, replaced_by: null, sessions_revoked: 0 });
    const listed = await runCli(['keys', 'list'], cliEnv);
    expect(listed.json.find((key: { kid: string }) => key.kid === kid)).toMatchObject({ revoked_at: revoked.json.revoked_at, active: false });
  });

  it('refuses an unknown kid, and a missing one', async () => {
    const unknown = await runCli(['keys', 'revoke', 'no-such-kid'], cliEnv);
    expect({ code: unknown.code, stderr: unknown.stderr.trim() }).toEqual({ code: 2, stderr: 'error: No signing key no-such-kid' });
    const missing = await runCli(['keys', 'revoke'], cliEnv);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/keys revoke takes one KID/);
  });
});
