/**
 * Redis going away under a running service (REDIS_URL set for the login throttle), as an operator
 * would see it: a redis-server of the test's own is killed, then started again; and, separately,
 * the network to it stalls (a proxy that stops forwarding) and recovers. Logins keep their normal
 * answers throughout (the throttle counts in PostgreSQL meanwhile, and still limits a burst),
 * readiness stays ready and says Redis is down, and once Redis answers again the counts go back
 * to it.
 */
import { TestService, expectError, type TestApp } from '../support/test-service';
import { RedisServer } from '../support/redis-server';
import { StallingProxy } from '../support/stalling-proxy';
import { eventually } from '../support/eventually';

const PASSWORD = 'correct horse battery';
const FREE = 3;


function throttleStoreOf(metrics: string): string | undefined {
  return /^auth_throttle_store\{store="(redis|postgres)"\} 1$/m.exec(metrics)?.[1];
}

describe('Redis killed under a running service, then started again', () => {
  let redis: RedisServer;
  let service: TestService;
  let tenant: TestApp;
  const logLines: Array<Record<string, any>> = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    service = await TestService.start({ REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '300' }, { logLines });
    tenant = await service.createApp({ loginFreeFailures: FREE, loginIpFreeFailures: 100_000 });
    await service.createUser(tenant.app, { username: 'steady' });
  }, 60_000);
  afterAll(async () => {
    await service?.close();
    await redis?.kill();
  });

  const login = (name: string, password: string) => service.post('/token/user', { appId: tenant.app.id, body: { name, password } });
  const ready = () => service.call('GET', '/health/ready');
  const store = async () => throttleStoreOf((await service.call('GET', '/metrics')).text);
  const keysInRedis = async () => {
    const client = redis.client();
    try {
      return await client.keys(`im-auth:throttle:*${tenant.app.id}*`);
    } finally {
      client.disconnect();
    }
  };

  it('answers logins as usual, still limits a burst, stays ready saying Redis is down, and counts in Redis again once it is back', async () => {
    expect((await login('steady', PASSWORD)).body.code).toBe(200);
    expectError(await login('steady', 'wrong before'), 401, 10101);
    expect((await ready()).body).toEqual({ code: 200, message: null, data: { status: 'up', database: 'up', redis: 'up' } });
    expect(await store()).toBe('redis');
    expect(await keysInRedis()).not.toEqual([]);

    await redis.kill();

    // Right and wrong passwords keep their answers (never 500 / 50000).
    const right = await login('steady', PASSWORD);
    expect({ status: right.status, code: right.body.code }).toEqual({ status: 200, code: 200 });
    expectError(await login('steady', 'wrong during'), 401, 10101);

    // The throttle still limits a burst, now in PostgreSQL.
    const started = performance.now();
    const burst = await Promise.all(Array.from({ length: 32 }, (_, i) => login('burst_while_down', `guess ${i}`)));
    const allowed = FREE + 1 + Math.floor(Math.log2((performance.now() - started) / 1000 + 1));
    const codes = burst.map((reply) => reply.body.code);
    expect([...new Set(codes)].sort()).toEqual([10101, 10103]);
    expect(codes.filter((code) => code === 10101).length).toBeLessThanOrEqual(allowed);
    const counted = await service.dataSource.query(`SELECT count(*)::int AS n FROM login_throttle WHERE key LIKE $1`, [`%${tenant.app.id}%`]);
    expect(counted[0].n).toBeGreaterThan(0);

    // Ready: logins are served. Redis is reported down, and the metrics say which store counts.
    const whileDown = await ready();
    expect({ status: whileDown.status, body: whileDown.body }).toEqual({
      status: 200,
      body: { code: 200, message: null, data: { status: 'up', database: 'up', redis: 'down' } },
    });
    expect(await store()).toBe('postgres');
    // One warning for the outage, not one per login.
    const warnings = logLines.filter((line) => line.level === 'warn' && /Redis did not answer/.test(line.msg));
    expect(warnings).toHaveLength(1);

    await redis.restart();
    // Redis is probed every second.
    await eventually(10_000, async () => expect(await store()).toBe('redis'));
    expect((await ready()).body.data.redis).toBe('up');
    expectError(await login('after_return', 'a guess'), 401, 10101);
    expect((await keysInRedis()).length).toBeGreaterThan(0);
  }, 60_000);
});

describe('the network to Redis stalling', () => {
  let redis: RedisServer;
  let proxy: StallingProxy;
  let service: TestService;
  let tenant: TestApp;

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await StallingProxy.start(redis.port);
    service = await TestService.start({ REDIS_URL: `redis://127.0.0.1:${proxy.port}`, REDIS_TIMEOUT_MS: '300' });
    tenant = await service.createApp({ loginFreeFailures: FREE });
    await service.createUser(tenant.app, { username: 'patient' });
  }, 60_000);
  afterAll(async () => {
    await service?.close();
    await proxy?.close();
    await redis?.kill();
  });

  const timedLogin = async (password: string) => {
    const started = performance.now();
    const reply = await service.post('/token/user', { appId: tenant.app.id, body: { name: 'patient', password } });
    return { code: reply.body.code, ms: performance.now() - started };
  };

  it('answers logins within a second while Redis takes connections but never answers, and uses Redis again once it does', async () => {
    expect((await timedLogin(PASSWORD)).code).toBe(200);
    proxy.stall();

    const right = await timedLogin(PASSWORD);
    const wrong = await timedLogin('wrong while stalled');
    expect({ right: right.code, wrong: wrong.code }).toEqual({ right: 200, wrong: 10101 });
    expect(right.ms).toBeLessThan(1000);
    expect(wrong.ms).toBeLessThan(1000);
    expect((await service.call('GET', '/health/ready')).body.data).toEqual({ status: 'up', database: 'up', redis: 'down' });

    proxy.resume();
    await eventually(10_000, async () => expect(throttleStoreOf((await service.call('GET', '/metrics')).text)).toBe('redis'));
    expect((await timedLogin(PASSWORD)).code).toBe(200);
  }, 60_000);
});
