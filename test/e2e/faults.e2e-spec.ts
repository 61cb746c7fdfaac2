/**
 * Faults, run like production.
 *
 * The database going away under load: the real entry point runs as a process on a PostgreSQL of
 * the test's own (never the machine's shared server), takes a steady login load, and that
 * PostgreSQL is stopped in the middle of it and started again. While it is down every login fails
 * fast with 503 and code 20000 (nothing hangs, no connection is cut, the process stays up) and
 * readiness says so; once it is back the service recovers by itself, without a restart.
 *
 * Races on one identity: simultaneous registrations of one username and simultaneous first
 * logins from one device each leave exactly one row, on the run's test database (embedded PGlite,
 * or the DATABASE_URL server).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestService, TEST_MASTER_KEY, expectError, type Reply, type TestApp } from '../support/test-service';
import { runCli, startServiceProcess, type RunningService } from '../support/processes';
import { ThrowawayPostgres } from '../support/throwaway-postgres';
import { send, type Outcome } from '../support/fresh-connection-client';
import { describeOutcomes, startLoginLoad } from '../support/login-load';
import { ensureStopped, isRunning } from '../support/process-exit';
import { UserEntity } from '../../apps/auth/src/users/user.entity';
import { DeviceEntity } from '../../apps/auth/src/devices/device.entity';
import { SessionEntity } from '../../apps/auth/src/token/session.entity';

const PASSWORD = 'correct horse battery';
/** The service's DB_TIMEOUT_MS here: no query or connection attempt may wait longer. */
const DB_TIMEOUT_MS = 2000;
/** No request may take longer than this, database up or down. */
const REQUEST_BOUND_MS = 5000;
/** The service must log in again this soon after PostgreSQL is back. */
const RECOVERY_BOUND_MS = 15_000;
const LOAD_LOOPS = 8;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What an outcome was, in one comparable value: the network error, or status/code. */
const kindOf = (outcome: Outcome) => outcome.error ?? `${outcome.status}/${outcome.body?.code}`;

describe('PostgreSQL stopping and starting again under a login load', () => {
  let postgres: ThrowawayPostgres | undefined;
  let running: RunningService | undefined;
  let pid: number | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'im-auth-faults-'));
  let appId = '';
  const login = { name: 'load_user', password: PASSWORD };

  const loginOnce = () => send(running!.baseUrl, 'POST', '/token/user', { headers: { app_id: appId }, body: login, timeoutMs: 30_000 });
  const loadFor = async (ms: number, during?: () => Promise<void>) => {
    const load = startLoginLoad({ baseUrl: running!.baseUrl, appId, path: '/token/user', body: login, concurrency: LOAD_LOOPS, timeoutMs: 30_000 });
    await sleep(ms);
    await during?.();
    return load.stop();
  };

  beforeAll(async () => {
    postgres = await ThrowawayPostgres.create();
    const env = {
      DATABASE_URL: postgres.url,
      DB_TIMEOUT_MS: String(DB_TIMEOUT_MS),
      MASTER_KEY: TEST_MASTER_KEY,
      DATA_DIR: dataDir,
      SEED_DEMO: 'false',
    };
    running = await startServiceProcess(env);
    pid = running.process.pid;
    // LOAD_LOOPS logins of one user are in flight at once, which the throttle counts as attempts.
    const app = await runCli(['app', 'create', '--name', 'faults', '--login-free-failures', '100'], env);
    if (app.code !== 0) throw new Error(`app create failed: ${app.stderr}`);
    appId = app.json.app_id;
    const user = await runCli(['user', 'create', '--app', appId, '--username', login.name, '--password-stdin'], env, `${PASSWORD}\n`);
    if (user.code !== 0) throw new Error(`user create failed: ${user.stderr}`);
  }, 90_000);

  afterAll(async () => {
    try {
      await ensureStopped(running);
    } finally {
      await postgres?.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('answers every login of the load while PostgreSQL is up', async () => {
    const outcomes = await loadFor(2000);
    expect(outcomes.length).toBeGreaterThan(LOAD_LOOPS);
    expect([...new Set(outcomes.map(kindOf))]).toEqual(['200/200']);
    expect(Math.max(...outcomes.map((outcome) => outcome.ms))).toBeLessThan(REQUEST_BOUND_MS);
  });

  it('fails logins fast with 503 and code 20000 while PostgreSQL is down, and stays up', async () => {
    let downSince = 0;
    const outcomes = await loadFor(1500, async () => {
      await postgres!.stop('fast');
      downSince = Date.now();
      await sleep(4000);
    });
    const summary = describeOutcomes(outcomes);

    // Nothing is cut off or left hanging: every request gets an HTTP reply, within the bound.
    expect({ networkErrors: outcomes.filter((outcome) => outcome.error).map(kindOf), summary }).toEqual({ networkErrors: [], summary });
    const slow = outcomes.filter((outcome) => outcome.ms > REQUEST_BOUND_MS);
    expect({ slow: slow.map((outcome) => `${kindOf(outcome)} in ${outcome.ms} ms`), summary }).toEqual({ slow: [], summary });
    // Around the stop a login either succeeded or was refused as "database unavailable": nothing else.
    expect({ kinds: [...new Set(outcomes.map(kindOf))].filter((kind) => kind !== '200/200' && kind !== '503/20000'), summary }).toEqual({ kinds: [], summary });

    const whileDown = outcomes.filter((outcome) => outcome.startedAt >= downSince);
    expect(whileDown.length).toBeGreaterThanOrEqual(LOAD_LOOPS);
    expect({ whileDown: [...new Set(whileDown.map(kindOf))], summary }).toEqual({ whileDown: ['503/20000'], summary });
    for (const outcome of whileDown.slice(0, 3)) {
      expect(outcome.body).toEqual({ code: 20000, message: expect.any(String), data: null });
    }

    // The process is still there, alive, and readiness reports the database down.
    expect(isRunning(running!.process)).toBe(true);
    expect(running!.process.pid).toBe(pid);
    const live = await send(running!.baseUrl, 'GET', '/health/live');
    expect(live.status).toBe(200);
    const ready = await send(running!.baseUrl, 'GET', '/health/ready');
    expect({ status: ready.status, code: ready.body?.code, data: ready.body?.data }).toEqual({ status: 503, code: 20000, data: null });
    expect(ready.ms).toBeLessThan(REQUEST_BOUND_MS);
  }, 60_000);

  it('recovers by itself once PostgreSQL is back, without a restart', async () => {
    await postgres!.start();
    const backSince = Date.now();
    let recovered: Outcome | undefined;
    const attempts: string[] = [];
    while (Date.now() - backSince < RECOVERY_BOUND_MS) {
      const attempt = await loginOnce();
      attempts.push(kindOf(attempt));
      if (attempt.status === 200) {
        recovered = attempt;
        break;
      }
      await sleep(200);
    }
    expect({ recovered: recovered?.body?.code, attempts: attempts.slice(-5) }).toEqual({ recovered: 200, attempts: attempts.slice(-5) });
    expect(Date.now() - backSince).toBeLessThan(RECOVERY_BOUND_MS);

    const ready = await send(running!.baseUrl, 'GET', '/health/ready');
    expect({ status: ready.status, body: ready.body }).toEqual({ status: 200, body: { code: 200, message: null, data: { status: 'up', database: 'up' } } });

    const outcomes = await loadFor(2000);
    expect({ kinds: [...new Set(outcomes.map(kindOf))], summary: describeOutcomes(outcomes) }).toEqual({
      kinds: ['200/200'],
      summary: describeOutcomes(outcomes),
    });
    // The same process did all of it.
    expect(isRunning(running!.process)).toBe(true);
    expect(running!.process.pid).toBe(pid);
    expect(running!.output().match(/Listening on/g)).toHaveLength(1);
  }, 60_000);
});

describe('simultaneous writes on one identity', () => {
  let service: TestService;
  let tenant: TestApp;

  beforeAll(async () => {
    service = await TestService.start({ DB_POOL_SIZE: '10' });
    // 50 logins of one user at once: the throttle counts every attempt in flight on an identifier,
    // so the app allows that many (the race under test is the device row's).
    tenant = await service.createApp({ loginFreeFailures: 100 });
  });
  afterAll(() => service.close());

  it('registers one of 50 simultaneous registrations of one username and refuses the other 49 with 409/10004 naming username', async () => {
    const replies: Reply[] = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        service.post('/user/register/v2', {
          appId: tenant.app.id,
          token: tenant.adminToken,
          body: { username: 'contested_name', password: `${PASSWORD} ${i}` },
        }),
      ),
    );
    const winners = replies.filter((reply) => reply.status === 200);
    const losers = replies.filter((reply) => reply.status !== 200);
    expect(winners).toHaveLength(1);
    expect(winners[0].body).toEqual({ code: 200, message: null, data: { user_id: expect.any(Number), username: 'contested_name', mobile: null, email: null } });
    expect(losers).toHaveLength(49);
    for (const reply of losers) expectError(reply, 409, 10004, /username/);

    const rows = await service.dataSource.getRepository(UserEntity).findBy({ appId: tenant.app.id, usernameKey: 'contested_name' });
    expect(rows.map((row) => row.id)).toEqual([winners[0].body.data.user_id]);
  });

  it('gives 50 simultaneous first logins from one new device one device row and the same push_token', async () => {
    const user = await service.createUser(tenant.app, { username: 'one_device_owner' });
    const replies: Reply[] = await Promise.all(
      Array.from({ length: 50 }, () =>
        service.post('/token/user', { appId: tenant.app.id, body: { name: user.username, password: PASSWORD, device_guid: 'contested-device' } }),
      ),
    );
    expect(replies.map((reply) => `${reply.status}/${reply.body?.code}`)).toEqual(Array(50).fill('200/200'));

    const devices = await service.dataSource.getRepository(DeviceEntity).findBy({ userId: user.id });
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({ deviceGuid: 'contested-device', deviceSn: 1 });
    expect(new Set(replies.map((reply) => reply.body.data.push_token))).toEqual(new Set([devices[0].pushToken]));
    // Every login kept its session, each bound to that one device.
    const sessions = await service.dataSource.getRepository(SessionEntity).findBy({ userId: user.id });
    expect(sessions).toHaveLength(50);
    expect(new Set(sessions.map((session) => session.deviceId))).toEqual(new Set([devices[0].id]));
  });
});
