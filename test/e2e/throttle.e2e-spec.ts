/**
 * Brute force and stuffing: failed logins are counted per account and per client IP in the
 * database, so every instance enforces one limit, and a throttled attempt is refused with 429
 * and Retry-After before any password hashing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestService, TEST_MASTER_KEY, expectError, type TestApp } from '../support/test-service';
import { startServiceProcess, type RunningService } from '../support/processes';
import { PlatformSdkClient } from '../support/platform-sdk-client';
import type { UserEntity } from '../../apps/auth/src/users/user.entity';

const PASSWORD = 'correct horse battery';

/**
 * The first wait after the free attempts is one second, which a slow machine could see end before
 * a test's next assertions: where a test goes on asserting a wait, it stretches the waits the
 * guesses caused in its app to an hour, as many more guesses would make them.
 */
function holdWaits(service: TestService, appId: string): Promise<unknown> {
  return service.dataSource.query(`UPDATE login_throttle SET blocked_until = now() + interval '1 hour' WHERE key LIKE $1 AND blocked_until > now()`, [
    `%${appId}%`,
  ]);
}

describe('the login throttle', () => {
  let service: TestService;
  let other: TestService;

  beforeAll(async () => {
    [service, other] = await Promise.all([TestService.start(), TestService.start()]);
  });
  afterAll(async () => {
    await Promise.all([service.close(), other.close()]);
  });

  /** An app whose accounts may fail 3 times before waiting, so tests stay short. */
  const strictApp = (settings: Record<string, number> = {}) => service.createApp({ loginFreeFailures: 3, ...settings });

  const attempt = (target: TestService, tenant: TestApp, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    target.post('/token/user', { appId: tenant.app.id, body, headers });

  async function failTimes(tenant: TestApp, user: UserEntity, times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      expectError(await attempt(service, tenant, { name: user.username, password: `wrong ${i}` }), 401, 10101);
    }
  }

  it('refuses the attempt after the free failures with 429, Retry-After and 10103, even with the right password', async () => {
    const tenant = await strictApp();
    const user = await service.createUser(tenant.app, { username: 'victim' });
    await failTimes(tenant, user, 3);
    // The fourth failure is still checked (and counted); from then on the account waits.
    expectError(await attempt(service, tenant, { name: 'victim', password: 'wrong again' }), 401, 10101);
    const blocked = await attempt(service, tenant, { name: 'victim', password: PASSWORD });
    expectError(blocked, 429, 10103, /try again in 1 s/);
    expect(blocked.headers.get('retry-after')).toBe('1');
  });

  it('lets the account try again once the wait is over, and doubles the next wait', async () => {
    const tenant = await strictApp();
    const user = await service.createUser(tenant.app, { username: 'patient' });
    await failTimes(tenant, user, 4);
    expectError(await attempt(service, tenant, { name: 'patient', password: PASSWORD }), 429, 10103);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expectError(await attempt(service, tenant, { name: 'patient', password: 'still wrong' }), 401, 10101);
    const blocked = await attempt(service, tenant, { name: 'patient', password: PASSWORD });
    expect(blocked.headers.get('retry-after')).toBe('2');
  });

  it("counts each identifier of a user apart, so a throttled one tells nothing of the user's others", async () => {
    const tenant = await strictApp();
    const user = await service.createUser(tenant.app, { username: 'many_names', email: 'many@example.com', mobile: '+8613800138123' });
    for (let i = 0; i < 4; i++) {
      await service.post('/token/login', { appId: tenant.app.id, body: { login_name: 'many@example.com', password: `guess ${i}` } });
    }
    await holdWaits(service, tenant.app.id);
    expectError(await service.post('/token/login', { appId: tenant.app.id, body: { login_name: 'many@example.com', password: PASSWORD } }), 429, 10103);
    // Every other identifier answers a wrong password exactly as an identifier nobody has touched.
    expectError(await service.post('/token/id', { appId: tenant.app.id, body: { user_id: user.id, password: 'wrong' } }), 401, 10101);
    expectError(await attempt(service, tenant, { name: 'many_names', password: 'wrong' }), 401, 10101);
    expectError(await service.post('/token/login', { appId: tenant.app.id, body: { login_name: '+8613800138123', password: 'wrong' } }), 401, 10101);
    expect((await attempt(service, tenant, { name: 'many_names', password: PASSWORD })).body.code).toBe(200);
  });

  it('counts the identifier the same whether or not a user has it', async () => {
    const tenant = await strictApp();
    await service.createUser(tenant.app, { username: 'exists_here' });
    const answers = async (name: string) => {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await attempt(service, tenant, { name, password: `guess ${i}` })).body.code);
      return codes;
    };
    expect(await answers('exists_here')).toEqual(await answers('nobody_here'));
  });

  it('throttles guesses at a login name that matches nobody', async () => {
    const tenant = await strictApp();
    for (let i = 0; i < 4; i++) await attempt(service, tenant, { name: 'ghost', password: `guess ${i}` });
    expectError(await attempt(service, tenant, { name: 'ghost', password: 'guess 5' }), 429, 10103);
  });

  it('resets the account after a successful login', async () => {
    const tenant = await strictApp();
    const user = await service.createUser(tenant.app, { username: 'forgetful' });
    await failTimes(tenant, user, 3);
    expect((await attempt(service, tenant, { name: 'forgetful', password: PASSWORD })).body.code).toBe(200);
    await failTimes(tenant, user, 3);
    expect((await attempt(service, tenant, { name: 'forgetful', password: PASSWORD })).body.code).toBe(200);
  });

  it('enforces one limit across two instances on one database', async () => {
    const tenant = await strictApp();
    const user = await service.createUser(tenant.app, { username: 'two_instances' });
    await failTimes(tenant, user, 2);
    for (let i = 0; i < 2; i++) await attempt(other, tenant, { name: 'two_instances', password: `other ${i}` });
    expectError(await attempt(other, tenant, { name: 'two_instances', password: PASSWORD }), 429, 10103);
    expectError(await attempt(service, tenant, { name: 'two_instances', password: PASSWORD }), 429, 10103);
  });

  it('throttles one client IP spraying one password over many accounts', async () => {
    const tenant = await strictApp({ loginIpFreeFailures: 4 });
    for (let i = 0; i < 5; i++) await attempt(service, tenant, { name: `sprayed_${i}`, password: 'Summer2026!' });
    const innocent = await service.createUser(tenant.app, { username: 'innocent' });
    expectError(await attempt(service, tenant, { name: innocent.username, password: PASSWORD }), 429, 10103);
  });

  it('ignores X-Forwarded-For from a client that is not a trusted proxy', async () => {
    const tenant = await strictApp({ loginIpFreeFailures: 4 });
    for (let i = 0; i < 5; i++) {
      await attempt(service, tenant, { name: `spoof_${i}`, password: 'guess' }, { 'x-forwarded-for': `203.0.113.${i}` });
    }
    const reply = await attempt(service, tenant, { name: 'spoof_x', password: 'guess' }, { 'x-forwarded-for': '198.51.100.7' });
    expectError(reply, 429, 10103);
  });

  it('keeps other apps and other accounts out of it', async () => {
    const tenant = await strictApp();
    const victim = await service.createUser(tenant.app, { username: 'blocked_one' });
    const bystander = await service.createUser(tenant.app, { username: 'bystander' });
    await failTimes(tenant, victim, 4);
    expect((await attempt(service, tenant, { name: bystander.username, password: PASSWORD })).body.code).toBe(200);
  });

  it('answers 200 with code 10103 and Retry-After for an app in the 200 mode', async () => {
    const tenant = await service.createApp({ loginFreeFailures: 1, errorHttpStatus: 'always-200' });
    await service.createUser(tenant.app, { username: 'mode_200' });
    await attempt(service, tenant, { name: 'mode_200', password: 'wrong 1' });
    await attempt(service, tenant, { name: 'mode_200', password: 'wrong 2' });
    const reply = await attempt(service, tenant, { name: 'mode_200', password: PASSWORD });
    expectError(reply, 200, 10103);
    expect(Number(reply.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});

describe('the login throttle on Redis (REDIS_URL)', () => {
  const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  let first: TestService;
  let second: TestService;

  beforeAll(async () => {
    [first, second] = await Promise.all([TestService.start({ REDIS_URL }), TestService.start({ REDIS_URL })]);
  });
  afterAll(async () => {
    await Promise.all([first.close(), second.close()]);
  });

  it('enforces one limit across two instances and writes no counter to PostgreSQL', async () => {
    const tenant = await first.createApp({ loginFreeFailures: 2 });
    await first.createUser(tenant.app, { username: 'redis_victim' });
    const attempt = (target: TestService, password: string) =>
      target.post('/token/user', { appId: tenant.app.id, body: { name: 'redis_victim', password } });

    expectError(await attempt(first, 'wrong 1'), 401, 10101);
    expectError(await attempt(second, 'wrong 2'), 401, 10101);
    expectError(await attempt(first, 'wrong 3'), 401, 10101);
    const blocked = await attempt(second, PASSWORD);
    expectError(blocked, 429, 10103);
    expect(blocked.headers.get('retry-after')).toBe('1');

    const rows = await first.dataSource.query(`SELECT count(*)::int AS n FROM login_throttle WHERE key LIKE $1`, [`%${tenant.app.id}%`]);
    expect(rows[0].n).toBe(0);
  });

  it('resets the account on success', async () => {
    const tenant = await first.createApp({ loginFreeFailures: 2 });
    await first.createUser(tenant.app, { username: 'redis_reset' });
    const attempt = (target: TestService, password: string) =>
      target.post('/token/user', { appId: tenant.app.id, body: { name: 'redis_reset', password } });
    await attempt(first, 'wrong 1');
    await attempt(second, 'wrong 2');
    expect((await attempt(first, PASSWORD)).body.code).toBe(200);
    await attempt(second, 'wrong 3');
    await attempt(first, 'wrong 4');
    expect((await attempt(second, PASSWORD)).body.code).toBe(200);
  });
});

/**
 * Parallel guesses. Every attempt is counted when it starts, so however many guesses arrive at
 * once, and at however many instances, at most the free attempts and one more are checked; the
 * rest wait (429 / 10103) without any hashing. Each guess here is wrong, so the replies say how
 * many were checked: 10101 means checked, 10103 means refused unchecked.
 */
describe.each([
  ['PostgreSQL', {}],
  ['Redis', { REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' }],
])('parallel guesses, counters in %s, at two instances', (_store, storeEnv: Record<string, string>) => {
  const FREE = 3;
  const BURST = 64;
  let service: TestService;
  let second: RunningService;
  const dataDir = mkdtempSync(join(tmpdir(), 'im-auth-burst-'));

  beforeAll(async () => {
    [service, second] = await Promise.all([
      TestService.start(storeEnv),
      startServiceProcess({
        ...storeEnv,
        DATABASE_URL: process.env.TEST_DATABASE_URL,
        MASTER_KEY: TEST_MASTER_KEY,
        DATA_DIR: dataDir,
        SEED_DEMO: 'false',
      }),
    ]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([service?.close(), second?.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  /**
   * Sends every body at once, alternating between the two instances, and tallies the codes. Also
   * says how many checks the throttle may allow in all: the free attempts and one more, plus one
   * for each wait (1 s, then 2 s, 4 s...) that could have ended while the burst was still arriving,
   * which on a busy machine may take more than a second. The second term is 0 for any burst
   * answered within a second, and grows by one per doubling of its duration.
   */
  async function burst(appId: string, bodies: object[]): Promise<{ tally: Record<string, number>; allowed: number }> {
    const started = performance.now();
    const replies = await Promise.all(
      bodies.map((body, i) =>
        fetch(`${i % 2 === 0 ? service.baseUrl : second.baseUrl}/token/user`, {
          method: 'POST',
          headers: { app_id: appId, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then((reply) => reply.json() as Promise<{ code: number }>),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const tally: Record<string, number> = {};
    for (const reply of replies) tally[reply.code] = (tally[reply.code] ?? 0) + 1;
    return { tally, allowed: FREE + 1 + Math.floor(Math.log2(seconds + 1)) };
  }

  it(`checks at most ${FREE} + 1 of ${BURST} parallel wrong guesses on one account (plus one per wait that ended meanwhile)`, async () => {
    const tenant = await service.createApp({ loginFreeFailures: FREE, loginIpFreeFailures: 100_000 });
    await service.createUser(tenant.app, { username: 'burst_target' });
    const { tally, allowed } = await burst(tenant.app.id, Array.from({ length: BURST }, (_, i) => ({ name: 'burst_target', password: `guess ${i}` })));
    expect(Object.keys(tally).sort()).toEqual(['10101', '10103']);
    expect(tally['10101']).toBeLessThanOrEqual(allowed);
    expect(tally['10101'] + tally['10103']).toBe(BURST);
  });

  it(`checks at most ${FREE} + 1 of ${BURST} parallel guesses from one address at many accounts (plus one per wait that ended meanwhile)`, async () => {
    const tenant = await service.createApp({ loginFreeFailures: 1000, loginIpFreeFailures: FREE });
    const { tally, allowed } = await burst(tenant.app.id, Array.from({ length: BURST }, (_, i) => ({ name: `sprayed_${i}`, password: 'Summer2026!' })));
    expect(Object.keys(tally).sort()).toEqual(['10101', '10103']);
    expect(tally['10101']).toBeLessThanOrEqual(allowed);
  });

  it('gives a successful login its attempt back, so right passwords in a row never wait', async () => {
    const tenant = await service.createApp({ loginFreeFailures: 1, loginIpFreeFailures: 1 });
    await service.createUser(tenant.app, { username: 'regular' });
    for (let i = 0; i < 6; i++) {
      const target = i % 2 === 0 ? service.baseUrl : second.baseUrl;
      const reply = await fetch(`${target}/token/user`, {
        method: 'POST',
        headers: { app_id: tenant.app.id, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'regular', password: PASSWORD }),
      });
      expect(((await reply.json()) as { code: number }).code).toBe(200);
    }
  });
});

/**
 * Targeted lockout: a stranger failing on a user's identifier makes that identifier wait, but a
 * device that has logged in to the account before and shows its push token is counted apart.
 */
describe('known devices under a targeted lockout', () => {
  let service: TestService;
  let tenant: TestApp;

  beforeAll(async () => {
    service = await TestService.start();
    tenant = await service.createApp({ loginFreeFailures: 3 });
    await service.createUser(tenant.app, { username: 'targeted' });
  });
  afterAll(() => service.close());

  const login = (body: Record<string, unknown>) => service.post('/token/user', { appId: tenant.app.id, body: { name: 'targeted', ...body } });

  it("lets the user's known phone in while strangers' guesses make everyone else wait", async () => {
    const first = await login({ password: PASSWORD, device_guid: 'victim-phone' });
    expect(first.body.code).toBe(200);
    const pushToken: string = first.body.data.push_token;

    for (let i = 0; i < 4; i++) await login({ password: `attacker guess ${i}` });
    await holdWaits(service, tenant.app.id);
    expectError(await login({ password: PASSWORD }), 429, 10103);
    // The phone without its push token, or with a wrong one, is a stranger too.
    expectError(await login({ password: PASSWORD, device_guid: 'victim-phone' }), 429, 10103);
    const wrongToken = `${pushToken.slice(0, -1)}${pushToken.endsWith('x') ? 'y' : 'x'}`;
    expectError(await login({ password: PASSWORD, device_guid: 'victim-phone', push_token: wrongToken }), 429, 10103);
    // Another device's guid with this push token is not known either.
    expectError(await login({ password: PASSWORD, device_guid: 'attacker-laptop', push_token: pushToken }), 429, 10103);

    const known = await login({ password: PASSWORD, device_guid: 'victim-phone', push_token: pushToken });
    expect(known.body.code).toBe(200);
    expect(known.body.data.push_token).toBe(pushToken);
    // Still waiting for strangers.
    expectError(await login({ password: PASSWORD }), 429, 10103);
  });

  it('makes a known device wait after its own failures (a stolen push token buys no free guesses)', async () => {
    const owner = await service.createUser(tenant.app, { username: 'stolen_token' });
    const first = await service.post('/token/user', { appId: tenant.app.id, body: { name: owner.username, password: PASSWORD, device_guid: 'tablet' } });
    const known = { name: owner.username, device_guid: 'tablet', push_token: first.body.data.push_token };
    for (let i = 0; i < 4; i++) {
      expectError(await service.post('/token/user', { appId: tenant.app.id, body: { ...known, password: `guess ${i}` } }), 401, 10101);
    }
    await holdWaits(service, tenant.app.id);
    expectError(await service.post('/token/user', { appId: tenant.app.id, body: { ...known, password: PASSWORD } }), 429, 10103);
    // Its failures were its own: the identifier itself never waited.
    expect((await service.post('/token/user', { appId: tenant.app.id, body: { name: owner.username, password: PASSWORD } })).body.code).toBe(200);
  });
});

/**
 * Open registration answers "already taken" (users need it), which is also how a prober maps
 * phone numbers and emails to accounts: from one client network those answers count like failed
 * logins, while registrations that succeed give their attempt back. Sent as the platform's web
 * SDK sends it, and read as it reads it, on the default configuration.
 */
describe('open registration from one address', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await TestService.start({ ERROR_HTTP_STATUS: undefined });
  });
  afterAll(() => service.close());

  it("makes an address that keeps hearing 'already taken' wait, never one that registers", async () => {
    const tenant = await service.createApp({ openRegistration: true, loginIpFreeFailures: 3 });
    const sdk = new PlatformSdkClient(service.baseUrl, tenant.app.id);
    for (let i = 0; i < 6; i++) {
      expect(await sdk.post('/user/register/v2', { username: `newcomer_${i}`, password: PASSWORD })).toMatchObject({ ok: true });
    }
    const probes = [];
    for (let i = 0; i < 4; i++) probes.push(await sdk.post('/user/register/v2', { username: `newcomer_${i}`, password: PASSWORD }));
    await holdWaits(service, tenant.app.id);
    probes.push(await sdk.post('/user/register/v2', { username: 'newcomer_4', password: PASSWORD }));
    expect(probes.map((outcome) => ('code' in outcome ? outcome.code : outcome))).toEqual([10004, 10004, 10004, 10004, 10103]);
    // The address waits, whatever it registers next; an admin's registration does not.
    expect(await sdk.post('/user/register/v2', { username: 'someone_new', password: PASSWORD })).toMatchObject({ ok: false, code: 10103 });
    const byAdmin = await service.post('/user/register/v2', { appId: tenant.app.id, token: tenant.adminToken, body: { username: 'newcomer_0', password: PASSWORD } });
    expect(byAdmin.body.code).toBe(10004);
  });
});
