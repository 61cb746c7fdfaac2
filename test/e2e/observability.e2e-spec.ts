/**
 * Running it like production: health probes for an orchestrator (readiness follows the database
 * down and back up), Prometheus metrics at /metrics, and structured logs: one JSON line per
 * request carrying the request's id, and no secret in any line.
 */
import type { INestApplication } from '@nestjs/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServiceConfig } from '../../libs/config/src';
import { createHttpApp } from '../../apps/auth/src/http/http-app';
import { createAppLog } from '../../apps/auth/src/logging/app-logger';
import { TestService, TEST_MASTER_KEY, expectError, type TestApp } from '../support/test-service';
import { startServiceProcess, type RunningService } from '../support/processes';
import { DatabaseLink } from '../support/database-link';
import { UserEntity } from '../../apps/auth/src/users/user.entity';

const PASSWORD = 'correct horse battery';

/** The samples of a Prometheus text exposition, by `name{labels}` as printed. */
function samplesOf(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*(?:\{.*\})?) (\S+)$/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    samples.set(match[1], Number(match[2]));
  }
  return samples;
}

/** Polls until `check` passes (log lines are written when a reply ends, a moment after the client has it). */
async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 3000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('health probes', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await TestService.start();
  });
  afterAll(() => service.close());

  it('answers live and ready with 200 in the envelope, without app_id, never cached', async () => {
    const live = await service.call('GET', '/health/live');
    expect({ status: live.status, body: live.body }).toEqual({ status: 200, body: { code: 200, message: null, data: { status: 'up' } } });
    const ready = await service.call('GET', '/health/ready');
    expect({ status: ready.status, body: ready.body }).toEqual({
      status: 200,
      body: { code: 200, message: null, data: { status: 'up', database: 'up' } },
    });
    expect(ready.headers.get('cache-control')).toMatch(/no-store/);
  });
});

describe('readiness while the database is unreachable', () => {
  const link = new DatabaseLink();
  const lines: Array<Record<string, any>> = [];
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    await link.open();
    const config = loadServiceConfig({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'im-auth-test-data-')),
      MASTER_KEY: TEST_MASTER_KEY,
      SEED_DEMO: 'false',
      DB_POOL_SIZE: '2',
      DB_TIMEOUT_MS: '2000',
      LOG_LEVEL: 'log',
    });
    // The app's log lines, read here instead of stdout.
    const log = createAppLog(config, { write: (line: string) => void lines.push(JSON.parse(line)) });
    app = await createHttpApp(config, link.url(), log);
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await link.cut();
    await app.close();
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${baseUrl}${path}`, { headers });
    return { status: response.status, headers: response.headers, body: (await response.json()) as any };
  };

  it('answers 503 with 20000 in the envelope while the database is gone, and 200 once it is back', async () => {
    expect((await get('/health/ready')).status).toBe(200);

    await link.cut();
    const down = await get('/health/ready');
    expect({ status: down.status, body: down.body }).toEqual({ status: 503, body: { code: 20000, message: 'database is down', data: null } });
    // Liveness does not depend on the database: the process itself is fine.
    expect((await get('/health/live')).status).toBe(200);

    // A request that needs the database fails the same way, and its warning names the request.
    const refused = await get('/user/list', { app_id: 'a'.repeat(20), 'x-request-id': 'while-db-down-1' });
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 503, code: 20000 });
    const warning = await eventually(() => {
      const found = lines.find((line) => line.context === 'Errors' && /database unavailable/.test(line.msg));
      if (!found) throw new Error(`no database warning among ${JSON.stringify(lines.slice(-5))}`);
      return found;
    });
    expect(warning).toMatchObject({ level: 'warn', requestId: 'while-db-down-1' });

    await link.open();
    const back = await eventually(async () => {
      const reply = await get('/health/ready');
      if (reply.status !== 200) throw new Error(`still ${reply.status}`);
      return reply;
    });
    expect(back.body).toEqual({ code: 200, message: null, data: { status: 'up', database: 'up' } });
  });
});

describe('GET /metrics', () => {
  let service: TestService;
  let tenant: TestApp;

  beforeAll(async () => {
    service = await TestService.start();
    // One free failure per account, so the third wrong guess is throttled.
    tenant = await service.createApp({ loginFreeFailures: 1 });
    await service.createUser(tenant.app, { username: 'metered', email: 'metered@example.com' });
    const banned = await service.createUser(tenant.app, { username: 'metered_banned' });
    await service.dataSource.getRepository(UserEntity).update({ id: banned.id }, { status: 1 });
  });
  afterAll(() => service.close());

  const login = (path: string, body: Record<string, unknown>) => service.post(path, { appId: tenant.app.id, body });

  it('serves Prometheus text, bare, without app_id', async () => {
    const reply = await service.call('GET', '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(reply.text).toMatch(/^# HELP /);
    expect(reply.body).toBeUndefined(); // not JSON, so not the envelope
  });

  it('counts logins by route and reply code, throttled requests, hashing time, requests by route pattern, the pool and the process', async () => {
    const before = samplesOf((await service.call('GET', '/metrics')).text);
    const verifiesBefore = before.get('auth_password_hash_seconds_count{operation="verify"}') ?? 0;

    expect((await login('/token/user', { name: 'metered', password: PASSWORD })).body.code).toBe(200);
    expect((await login('/token/login', { login_name: 'metered@example.com', password: PASSWORD })).body.code).toBe(200);
    expectError(await login('/token/user', { name: 'metered' }), 400, 10002);
    expectError(await login('/token/user', { name: 'metered_banned', password: PASSWORD }), 403, 10102);
    expectError(await login('/token/login', { login_name: 'metered', password: 'wrong guess 1' }), 401, 10101);
    expectError(await login('/token/login', { login_name: 'metered', password: 'wrong guess 2' }), 401, 10101);
    expectError(await login('/token/login', { login_name: 'metered', password: PASSWORD }), 429, 10103);
    expectError(await service.call('GET', '/no/such/path?token=abc'), 404, 10106);

    const text = (await service.call('GET', '/metrics')).text;
    const samples = samplesOf(text);
    const sample = (name: string) => samples.get(name);

    expect({
      userOk: sample('auth_logins_total{route="/token/user",outcome="200"}'),
      loginNameOk: sample('auth_logins_total{route="/token/login",outcome="200"}'),
      badInput: sample('auth_logins_total{route="/token/user",outcome="10002"}'),
      banned: sample('auth_logins_total{route="/token/user",outcome="10102"}'),
      wrong: sample('auth_logins_total{route="/token/login",outcome="10101"}'),
      throttledLogin: sample('auth_logins_total{route="/token/login",outcome="10103"}'),
      throttled: sample('auth_throttled_requests_total{route="/token/login"}'),
      notThrottled: sample('auth_throttled_requests_total{route="/token/id"}'),
    }).toEqual({ userOk: 1, loginNameOk: 1, badInput: 1, banned: 1, wrong: 2, throttledLogin: 1, throttled: 1, notThrottled: 0 });

    // Two right passwords, the banned user's, two wrong ones; neither bad input nor a throttled guess is hashed.
    expect(sample('auth_password_hash_seconds_count{operation="verify"}')! - verifiesBefore).toBe(5);
    expect(sample('auth_password_hash_seconds_sum{operation="verify"}')).toBeGreaterThan(0);
    // The users made in beforeAll were hashed by this instance.
    expect(sample('auth_password_hash_seconds_count{operation="hash"}')).toBeGreaterThanOrEqual(2);

    expect({
      userOk: sample('http_request_duration_seconds_count{method="POST",route="/token/user",status="200"}'),
      wrong: sample('http_request_duration_seconds_count{method="POST",route="/token/login",status="401"}'),
      throttled: sample('http_request_duration_seconds_count{method="POST",route="/token/login",status="429"}'),
      unmatched: sample('http_request_duration_seconds_count{method="GET",route="unmatched",status="404"}'),
    }).toEqual({ userOk: 1, wrong: 2, throttled: 1, unmatched: 1 });
    // Labels carry route patterns, never raw URLs.
    expect(text).not.toContain('/no/such/path');

    for (const state of ['total', 'idle', 'waiting']) expect(sample(`db_pool_connections{state="${state}"}`)).toEqual(expect.any(Number));
    expect(sample('db_pool_connections{state="total"}')).toBeGreaterThanOrEqual(1);
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('is not served with METRICS_ENABLED=false', async () => {
    const off = await TestService.start({ METRICS_ENABLED: 'false' });
    try {
      expectError(await off.call('GET', '/metrics'), 404, 10106);
    } finally {
      await off.close();
    }
  });
});

describe('the logs of the running service in production', () => {
  let running: RunningService | undefined;
  let service: TestService;
  let tenant: TestApp;

  beforeAll(async () => {
    service = await TestService.start();
    tenant = await service.createApp();
    await service.createUser(tenant.app, { username: 'logged_user' });
    running = await startServiceProcess({
      NODE_ENV: 'production',
      DATABASE_URL: process.env.TEST_DATABASE_URL,
      MASTER_KEY: TEST_MASTER_KEY,
      SEED_DEMO: 'false',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'im-auth-logs-')),
    });
  });
  afterAll(async () => {
    await running?.stop();
    await service.close();
  });

  const lines = () =>
    running!
      .output()
      .split('\n')
      .slice(0, -1) // the last piece may be a line still being written
      .filter((line) => line.trim() !== '');
  const requestLines = () => lines().map((line) => JSON.parse(line) as Record<string, any>).filter((line) => line.durationMs !== undefined);

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${running!.baseUrl}${path}`, {
      method: 'POST',
      headers: { app_id: tenant.app.id, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { requestId: response.headers.get('x-request-id'), body: (await response.json()) as any };
  };

  it('writes one JSON line per request, with the request id of its x-request-id reply header', async () => {
    const given = await post('/token/user', { name: 'logged_user', password: PASSWORD }, { 'x-request-id': 'obs-login-1' });
    expect(given.requestId).toBe('obs-login-1');
    const made = await post('/token/user', { name: 'logged_user', password: 'not the password' });
    const replaced = await post('/token/user', { name: 'logged_user', password: PASSWORD }, { 'x-request-id': 'not an id!' });
    expect(made.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(replaced.requestId).toMatch(/^[0-9a-f-]{36}$/);

    const [first, second, third] = await eventually(() => {
      const found = [given, made, replaced].map(({ requestId }) => requestLines().filter((line) => line.requestId === requestId));
      if (found.some((matches) => matches.length === 0)) throw new Error(`request lines missing:\n${running!.output().slice(-2000)}`);
      return found;
    });
    expect([first.length, second.length, third.length]).toEqual([1, 1, 1]);
    expect(first[0]).toMatchObject({ level: 'info', method: 'POST', route: '/token/user', path: '/token/user', status: 200, msg: expect.stringContaining('POST /token/user 200') });
    expect(first[0].durationMs).toEqual(expect.any(Number));
    expect(first[0].time).toEqual(expect.any(String));
    expect(second[0]).toMatchObject({ route: '/token/user', status: 401 });
  });

  it('writes nothing but JSON lines, start-up included', () => {
    const all = lines();
    expect(all.length).toBeGreaterThan(10);
    const notJson = all.filter((line) => {
      try {
        const parsed = JSON.parse(line);
        return typeof parsed.msg !== 'string' || typeof parsed.level !== 'string';
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
    expect(running!.output()).toContain('"msg":"Listening on http://localhost:');
  });

  it('logs no password and no token of a login', async () => {
    const password = 'obs-secret-password-7f3a';
    const user = await service.createUser(tenant.app, { username: 'logged_secret', password });
    const login = await post('/token/id', { user_id: user.id, password, device_guid: 'obs-phone-1' }, { 'access-token': 'obs-stale-token-9c1d' });
    expect(login.body.code).toBe(200);
    const wrongPassword = 'obs-wrong-password-b81e';
    await post('/token/id', { user_id: user.id, password: wrongPassword });
    await eventually(() => {
      if (!requestLines().some((line) => line.status === 401 && line.route === '/token/id')) throw new Error('the wrong login is not logged yet');
    });

    const { token, store_token: storeToken, push_token: pushToken, access_key_secret: accessKeySecret } = login.body.data;
    const secrets = { password, wrongPassword, staleToken: 'obs-stale-token-9c1d', token, storeToken, pushToken, accessKeySecret, signature: token.split('.')[2] };
    const output = running!.output();
    expect(Object.entries(secrets).filter(([, value]) => output.includes(value)).map(([name]) => name)).toEqual([]);
  });
});
