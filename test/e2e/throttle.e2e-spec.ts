/**
 * Brute force and stuffing: failed logins are counted per account and per client IP in the
 * database, so every instance enforces one limit, and a throttled attempt is refused with 429
 * and Retry-After before any password hashing.
 */
import { TestService, expectError, type TestApp } from '../support/test-service';
import type { UserEntity } from '../../apps/auth/src/users/user.entity';

const PASSWORD = 'correct horse battery';

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

  it('shares one counter between the three login routes of one user', async () => {
    const tenant = await strictApp();
    const user = await service.createUser(tenant.app, { username: 'three_routes', email: 'three@example.com' });
    await service.post('/token/id', { appId: tenant.app.id, body: { user_id: user.id, password: 'x1' } });
    await service.post('/token/login', { appId: tenant.app.id, body: { login_name: 'three@example.com', password: 'x2' } });
    await service.post('/token/user', { appId: tenant.app.id, body: { name: 'three_routes', password: 'x3' } });
    await service.post('/token/login', { appId: tenant.app.id, body: { login_name: 'THREE_ROUTES', password: 'x4' } });
    expectError(await service.post('/token/id', { appId: tenant.app.id, body: { user_id: user.id, password: PASSWORD } }), 429, 10103);
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
