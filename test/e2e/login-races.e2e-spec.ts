/**
 * A login proves its password long before it writes its session (argon2 takes milliseconds, and a
 * busy server queues it). Whatever happens to the account in between must win: a ban, a password
 * reset or change, a sign-out or the account's deletion means the login in flight issues nothing,
 * and a stale hash is re-hashed only over the hash that was verified.
 *
 * Each race is made to happen, not hoped for: the service's password verification is held (after
 * it has computed its answer) until the test has made the change, then released. The last test
 * goes one step further and holds the user's row lock from a second connection while the login
 * writes, on a PostgreSQL server (the run's, or one of the test's own when the run is on PGlite,
 * which runs one statement at a time and has no such window).
 */
import { Client } from 'pg';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { TestService, expectError, type Reply, type TestApp } from '../support/test-service';
import { ThrowawayPostgres } from '../support/throwaway-postgres';
import { PasswordHasher } from '../../apps/auth/src/crypto/password-hasher';
import { UsersService } from '../../apps/auth/src/users/users.service';
import { runMigrations } from '../../apps/auth/src/database/migrate';
import type { UserEntity } from '../../apps/auth/src/users/user.entity';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a brand new password';

/** Holds `service`'s next password verification, once it has its answer, until `release()`. */
function holdNextVerification(service: TestService): { verified: Promise<void>; release: () => void } {
  const hasher = service.nest.get(PasswordHasher);
  const verify = hasher.verify.bind(hasher);
  let reached!: () => void;
  let release!: () => void;
  const verified = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  jest.spyOn(hasher, 'verify').mockImplementationOnce(async (...args) => {
    const matched = await verify(...args);
    reached();
    await released;
    return matched;
  });
  return { verified, release };
}

/** Starts a login, holds it between its password check and its session write, runs `meanwhile`, then lets it finish. */
async function loginAround(service: TestService, login: () => Promise<Reply>, meanwhile: () => Promise<unknown>): Promise<Reply> {
  const held = holdNextVerification(service);
  const reply = login();
  await held.verified;
  await meanwhile();
  held.release();
  return reply;
}

describe('a login in flight while the account changes', () => {
  let service: TestService;
  let tenant: TestApp;

  beforeAll(async () => {
    service = await TestService.start();
    tenant = await service.createApp();
  });
  afterAll(() => service.close());
  afterEach(() => jest.restoreAllMocks());

  const login = (name: string, password = PASSWORD, extra: Record<string, unknown> = {}) =>
    service.post('/token/user', { appId: tenant.app.id, body: { name, password, ...extra } });
  const asAdminFor = (user: UserEntity, path: string, body?: unknown) =>
    service.post(path, { appId: tenant.app.id, token: tenant.adminToken, headers: { user_id: String(user.id) }, body });
  const liveSessions = async (user: UserEntity): Promise<string[]> =>
    (await service.dataSource.query(`SELECT jti FROM session WHERE user_id = $1 AND revoked_at IS NULL`, [user.id])).map((row: { jti: string }) => row.jti);
  const ok = (reply: Reply) => expect({ status: reply.status, code: reply.body?.code }).toEqual({ status: 200, code: 200 });

  it('re-hashes a stale password only over the hash it verified: a reset meanwhile is not reverted', async () => {
    const user = await service.nest.get(UsersService).importUser(tenant.app, { username: 'stale_hash', passwordHash: await bcryptHash(PASSWORD, 10) });
    const reply = await loginAround(
      service,
      () => login('stale_hash'),
      async () => ok(await asAdminFor(user, '/user/change_password_admin', { password: NEW_PASSWORD })),
    );
    expectError(reply, 401, 10101);
    expect(await liveSessions(user)).toEqual([]);
    expectError(await login('stale_hash'), 401, 10101);
    ok(await login('stale_hash', NEW_PASSWORD));
  });

  it.each([
    ['a ban', 403, 10102, (user: UserEntity) => service.call('PUT', '/user/disable', { appId: tenant.app.id, token: tenant.adminToken, body: { list: [user.id] } })],
    ['a password reset by an admin', 401, 10101, (user: UserEntity) => asAdminFor(user, '/user/change_password_admin', { password: NEW_PASSWORD })],
    ['a sign-out of every device', 409, 10107, (user: UserEntity) => asAdminFor(user, '/user/kick')],
    ["the account's deletion", 401, 10101, (user: UserEntity) => asAdminFor(user, '/user/delete')],
  ])('issues no token when %s happens between the password check and the session write', async (_change, status, code, change) => {
    const user = await service.createUser(tenant.app, { username: `raced_${code}_${Date.now() % 100000}` });
    const reply = await loginAround(
      service,
      () => login(user.username!),
      async () => ok(await change(user)),
    );
    expectError(reply, status, code);
    expect(await liveSessions(user)).toEqual([]);
  });

  it("issues no token when the user changes the password on another device meanwhile, and keeps that device's session", async () => {
    const user = await service.createUser(tenant.app, { username: 'changes_own' });
    const other = await login('changes_own');
    ok(other);
    const reply = await loginAround(
      service,
      () => login('changes_own'),
      async () =>
        ok(
          await service.post('/user/change_password', {
            appId: tenant.app.id,
            token: other.body.data.token,
            body: { old_password: PASSWORD, new_password: NEW_PASSWORD },
          }),
        ),
    );
    expectError(reply, 401, 10101);
    expect(await liveSessions(user)).toHaveLength(1);
  });

  it.each([
    ['signed out', '/user/kick'],
    ['removed', '/user/device/remove'],
  ])('issues no token to a device %s while it was logging in, and one to a device that was not', async (_what, path) => {
    const user = await service.createUser(tenant.app, { username: `device_${path.length}` });
    const [phone, tablet, watch] = await Promise.all(['phone', 'tablet', 'watch'].map((guid) => login(user.username!, PASSWORD, { device_guid: guid })));
    for (const reply of [phone, tablet, watch]) ok(reply);
    const sn = (reply: Reply) => JSON.parse(Buffer.from(reply.body.data.token.split('.')[1], 'base64url').toString()).device_sn as number;

    const refused = await loginAround(
      service,
      () => login(user.username!, PASSWORD, { device_guid: 'phone' }),
      async () => ok(await asAdminFor(user, `${path}?device_sn=${sn(phone)}`)),
    );
    expectError(refused, 409, 10107);

    const unaffected = await loginAround(
      service,
      () => login(user.username!, PASSWORD, { device_guid: 'tablet' }),
      async () => ok(await asAdminFor(user, `${path}?device_sn=${sn(watch)}`)),
    );
    ok(unaffected);
    // The tablet's two sessions live on; nothing of the phone's or the watch's does.
    expect(await liveSessions(user)).toHaveLength(2);
  });
});

describe('a login writing its session while a ban is committing', () => {
  let postgres: ThrowawayPostgres | undefined;
  let service: TestService;
  let locker: Client;
  let tenant: TestApp;

  beforeAll(async () => {
    let url = process.env.TEST_DATABASE_URL!;
    if (process.env.TEST_DATABASE_KIND !== 'server') {
      postgres = await ThrowawayPostgres.create();
      url = postgres.url;
      await runMigrations(url);
    }
    service = await TestService.start({}, { databaseUrl: url });
    tenant = await service.createApp();
    locker = new Client({ connectionString: url });
    await locker.connect();
  }, 90_000);
  afterAll(async () => {
    await locker?.end();
    await service?.close();
    await postgres?.dispose();
  });

  it('waits for the ban and issues nothing, rather than writing a session the ban did not see', async () => {
    const user = await service.createUser(tenant.app, { username: 'banned_while_writing' });
    const held = holdNextVerification(service);
    const reply = service.post('/token/user', { appId: tenant.app.id, body: { name: user.username, password: PASSWORD } });
    await held.verified;

    // What PUT /user/disable does, on a second connection, held open before it commits.
    await locker.query('BEGIN');
    await locker.query(`UPDATE app_user SET status = 1, security_stamp = security_stamp + 1 WHERE id = $1`, [user.id]);
    await locker.query(`UPDATE session SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [user.id]);
    held.release();
    // The login's write must now be waiting for the user's row (or, were it not, have answered).
    const answered = reply.then(() => 'answered' as const);
    let waiting = false;
    for (let i = 0; i < 200 && !waiting; i++) {
      if ((await Promise.race([answered, new Promise((resolve) => setTimeout(resolve, 25))])) === 'answered') break;
      const rows = await locker.query(
        `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO session%' AND pid <> pg_backend_pid()`,
      );
      waiting = rows.rowCount! > 0;
    }
    await locker.query('COMMIT');

    expect(waiting).toBe(true);
    expectError(await reply, 403, 10102);
    const live = await locker.query(`SELECT jti FROM session WHERE user_id = $1 AND revoked_at IS NULL`, [user.id]);
    expect(live.rows).toEqual([]);
  });
});
