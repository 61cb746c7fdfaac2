/**
 * Overload: logins queue for a hashing worker (one per core).
 * - One whose client hangs up while it waits is dropped when its turn comes instead of hashed:
 *   the workers go to logins someone still waits for. Dropped guesses count nowhere (no throttle
 *   failure, no hash), and nothing is written: not to the database, not to the closed connection
 *   (no reply is tried), and nothing to the log but the request's own line.
 * - The queue is bounded (HASHING_QUEUE_PER_WORKER): beyond it, a login or registration is
 *   refused at once with 503 / 50003 and Retry-After, before any hashing, writing nothing.
 * - The queue is shared out by client IP: one address that fills it cannot keep another's login
 *   out; its own newest waiting login gives up its place instead.
 *
 * To hold every worker busy long enough, the blockers log in as a user imported with a very
 * costly argon2id hash (about a second here); the pool's gauge in /metrics says when they run
 * and when the others are queued.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { hash as argon2Hash } from '@node-rs/argon2';
import { TestService, expectError, type Reply, type StartOptions } from '../support/test-service';
import { UserEntity } from '../../apps/auth/src/users/user.entity';
import { UsersService } from '../../apps/auth/src/users/users.service';

const PASSWORD = 'correct horse battery';
const COSTLY = { algorithm: 2, memoryCost: 65536, timeCost: 40, parallelism: 1 };

function samplesOf(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.trim()) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** Sends a login over a socket of its own and leaves it open, reply unread: hang up with destroy(). */
function sendLogin(baseUrl: string, appId: string, path: string, body: object, requestId?: string): Promise<Socket> {
  const { hostname, port } = new URL(baseUrl);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\napp_id: ${appId}\r\ncontent-type: application/json\r\n` +
          (requestId ? `x-request-id: ${requestId}\r\n` : '') +
          `content-length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`,
      );
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

const workers = availableParallelism();

/**
 * Every call that writes a reply (status line, headers or body) to the responses of the requests
 * with these ids, as Node's server sees them whichever adapter serves it.
 */
function watchReplyWrites(service: TestService, requestIds: string[]): string[] {
  const writes: string[] = [];
  (service.nest.getHttpServer() as Server).on('request', (request: IncomingMessage, response: ServerResponse) => {
    const id = request.headers['x-request-id'];
    if (typeof id !== 'string' || !requestIds.includes(id)) return;
    for (const method of ['writeHead', 'write', 'end'] as const) {
      const write = response[method] as (...args: unknown[]) => unknown;
      response[method] = ((...args: unknown[]) => {
        writes.push(`${id}: ${method}`);
        return write.apply(response, args);
      }) as never;
    }
  });
  return writes;
}

/** A service whose app has the users `patient` (a cheap hash) and `costly`, and ways to watch its hashing pool. */
async function overloadable(env: Record<string, string> = {}, options: StartOptions = {}, loginFreeFailures = 1) {
  const service = await TestService.start(env, options);
  // One free failure by default: two counted wrong guesses would throttle the account's next login.
  const tenant = await service.createApp({ loginFreeFailures });
  await service.createUser(tenant.app, { username: 'patient' });
  await service.nest.get(UsersService).importUser(tenant.app, { username: 'costly', passwordHash: await argon2Hash(PASSWORD, COSTLY) });
  const metrics = async () => samplesOf((await service.call('GET', '/metrics')).text);
  return {
    service,
    tenant,
    metrics,
    /** Every worker busy with a costly verification (a wrong password: no re-hash afterwards); resolves once they run. */
    async occupyWorkers(): Promise<Promise<Reply>[]> {
      const blockers = Array.from({ length: workers }, () =>
        service.post('/token/user', { appId: tenant.app.id, body: { name: 'costly', password: 'not the password' } }),
      );
      await this.hashingReaches(workers, 0);
      return blockers;
    },
    /** Polls the hashing pool's gauge until it shows this many jobs running and queued. */
    async hashingReaches(running: number, queued: number): Promise<void> {
      for (let tries = 0; ; tries++) {
        const now = await metrics();
        const load = { running: now.get('auth_password_hash_jobs{state="running"}'), queued: now.get('auth_password_hash_jobs{state="queued"}') };
        if (load.running === running && load.queued === queued) return;
        if (tries === 200) throw new Error(`the hashing pool never showed ${running} running and ${queued} queued: ${JSON.stringify(load)}`);
        await sleep(10);
      }
    },
  };
}

type Overloadable = Awaited<ReturnType<typeof overloadable>>;

/**
 * A describe block's own overloadable service, started before its tests and closed after them:
 * blocks cannot share one, since the blockers' wrong guesses leave the costly account throttled.
 */
function overloadableForBlock(...args: Parameters<typeof overloadable>): Overloadable {
  const block = {} as Overloadable;
  beforeAll(async () => {
    Object.assign(block, await overloadable(...args));
  });
  afterAll(() => block.service.close());
  return block;
}

describe('a login whose client hangs up while it waits for a hashing worker', () => {
  /** The service's log, every request's line included. */
  const logLines: Array<Record<string, any>> = [];
  const overload = overloadableForBlock({ LOG_LEVEL: 'log' }, { logLines });

  it('is dropped unhashed, uncounted and unanswered; the logins still waited for are answered', async () => {
    const { service, tenant } = overload;
    const before = await overload.metrics();
    const dropped = ['hung-up-1', 'hung-up-2', 'hung-up-3'];
    const writes = watchReplyWrites(service, dropped);
    const fromLine = logLines.length;

    const blockers = await overload.occupyWorkers();
    // Queued behind them: two wrong guesses at an account, one at nobody's.
    const hungUp = await Promise.all([
      sendLogin(service.baseUrl, tenant.app.id, '/token/user', { name: 'patient', password: 'guess 1' }, dropped[0]),
      sendLogin(service.baseUrl, tenant.app.id, '/token/user', { name: 'patient', password: 'guess 2' }, dropped[1]),
      sendLogin(service.baseUrl, tenant.app.id, '/token/user', { name: 'nobody_here', password: 'guess 3' }, dropped[2]),
    ]);
    await overload.hashingReaches(workers, 3);
    for (const socket of hungUp) socket.destroy();

    for (const reply of await Promise.all(blockers)) expectError(reply, 401, 10101);
    // Had the guesses been hashed and counted, the account would be throttled now (429).
    const login = await service.post('/token/user', { appId: tenant.app.id, body: { name: 'patient', password: PASSWORD } });
    expect(login.status).toBe(200);
    expect(login.body.code).toBe(200);
    expect((await service.call('GET', '/health/live')).status).toBe(200);

    // No reply was tried on the closed connections, and nothing went wrong in the log: each
    // dropped login has its request line (aborted), and there is no warning or error.
    expect(writes).toEqual([]);
    const logged = logLines.slice(fromLine);
    expect(logged.filter((line) => !['info', 'debug', 'trace'].includes(line.level))).toEqual([]);
    const linesOfDropped = logged.filter((line) => dropped.includes(line.requestId)).sort((a, b) => a.requestId.localeCompare(b.requestId));
    expect(linesOfDropped).toEqual(dropped.map((requestId) => expect.objectContaining({ requestId, level: 'info', route: '/token/user', aborted: true })));

    const after = await overload.metrics();
    const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
    expect({
      abandoned: delta('auth_password_checks_abandoned_total'),
      hashed: delta('auth_password_hash_seconds_count{operation="verify"}'),
      answeredWrong: delta('auth_logins_total{route="/token/user",outcome="10101"}'),
      hungUp: delta('auth_logins_total{route="/token/user",outcome="499"}'),
    }).toEqual({ abandoned: 3, hashed: workers + 1, answeredWrong: workers, hungUp: 3 });
  });
});

describe('a login or registration when the hashing queue is full', () => {

  const overload = overloadableForBlock({ HASHING_QUEUE_PER_WORKER: '1', TRUSTED_PROXIES: 'loopback' });

  it('is refused at once with 503 / 50003 and Retry-After, hashing and writing nothing; the queued ones are answered', async () => {
    const { service, tenant } = overload;
    const before = await overload.metrics();
    const blockers = await overload.occupyWorkers();
    // The queue holds one per worker: fill it, one login of each of as many clients, so that no
    // client has more waiting than the latecomers would (none of them can take a place).
    const queued = Array.from({ length: workers }, (_, i) =>
      service.post('/token/user', { appId: tenant.app.id, body: { name: 'patient', password: PASSWORD }, headers: { 'x-forwarded-for': `203.0.113.${i + 1}` } }),
    );
    await overload.hashingReaches(workers, workers);

    // (At a name of its own: the queued logins of `patient` count as attempts in flight on theirs.)
    const refused = await service.post('/token/user', { appId: tenant.app.id, body: { name: 'nobody_yet', password: 'a wrong guess' } });
    expectError(refused, 503, 50003, 'Server is busy, try again later');
    expect(refused.headers.get('retry-after')).toBe('1');
    const registration = await service.post('/user/register/v2', { appId: tenant.app.id, token: tenant.adminToken, body: { username: 'latecomer', password: PASSWORD } });
    expectError(registration, 503, 50003);
    const batch = await service.post('/user/register/batch', {
      appId: tenant.app.id,
      token: tenant.adminToken,
      body: { list: [{ username: 'batch_late', password: PASSWORD }] },
    });
    expect(batch.status).toBe(200);
    expect(batch.body.data).toEqual([{ user_id: null, username: 'batch_late', success: false, reason: 'Server is busy, try again later' }]);
    // Answered while the workers were still on the blockers: nothing waited.
    await overload.hashingReaches(workers, workers);

    for (const reply of await Promise.all(blockers)) expectError(reply, 401, 10101);
    for (const reply of await Promise.all(queued)) expect(reply.body.code).toBe(200);
    const users = service.dataSource.getRepository(UserEntity);
    expect(await users.countBy({ appId: tenant.app.id, username: 'latecomer' })).toBe(0);
    expect(await users.countBy({ appId: tenant.app.id, username: 'batch_late' })).toBe(0);
    // The refused wrong guess was not counted: two guesses now are the name's first two attempts,
    // its free one and the one more before a wait (had the refused one counted, the second would wait).
    expectError(await service.post('/token/user', { appId: tenant.app.id, body: { name: 'nobody_yet', password: 'another guess' } }), 401, 10101);
    expectError(await service.post('/token/user', { appId: tenant.app.id, body: { name: 'nobody_yet', password: 'a third guess' } }), 401, 10101);

    const after = await overload.metrics();
    expect(after.get('auth_logins_total{route="/token/user",outcome="50003"}')! - (before.get('auth_logins_total{route="/token/user",outcome="50003"}') ?? 0)).toBe(1);
  });
});

describe('a full hashing queue, all of it one client\'s', () => {

  // Many logins of one account in flight at once: the app allows that many attempts.
  const overload = overloadableForBlock({ HASHING_QUEUE_PER_WORKER: '2', TRUSTED_PROXIES: 'loopback' }, {}, 20);

  const loginFrom = (ip: string) =>
    overload.service.post('/token/user', { appId: overload.tenant.app.id, body: { name: 'patient', password: PASSWORD }, headers: { 'x-forwarded-for': ip } });

  it("still takes another client's login, refusing the flooding client's newest with 503 / 50003", async () => {
    const blockers = await overload.occupyWorkers();
    const flood: Promise<Reply>[] = [];
    for (let i = 0; i < 2 * workers; i++) {
      flood.push(loginFrom('203.0.113.9'));
      await overload.hashingReaches(workers, i + 1); // in this order: the last one sent is the newest
    }

    const other = loginFrom('198.51.100.7');
    const displaced = await flood.at(-1)!; // answered at once, while the workers are still busy
    expectError(displaced, 503, 50003, 'Server is busy, try again later');
    expect(displaced.headers.get('retry-after')).toBe('1');
    await overload.hashingReaches(workers, 2 * workers);

    for (const reply of await Promise.all(blockers)) expectError(reply, 401, 10101);
    expect((await other).body.code).toBe(200);
    for (const reply of await Promise.all(flood.slice(0, -1))) expect(reply.body.code).toBe(200);
  });
});

describe('a full hashing queue of registrations from one IPv6 /64', () => {

  const overload = overloadableForBlock({ HASHING_QUEUE_PER_WORKER: '2', TRUSTED_PROXIES: 'loopback' });

  it("counts registrations and the sender's whole /64 as one client, which loses its newest place to another", async () => {
    const { service, tenant } = overload;
    const blockers = await overload.occupyWorkers();
    // Registrations from addresses of one /64: one client, however many addresses it uses.
    const flood: Promise<Reply>[] = [];
    for (let i = 0; i < 2 * workers; i++) {
      flood.push(
        service.post('/user/register/v2', {
          appId: tenant.app.id,
          token: tenant.adminToken,
          body: { username: `flood_${i}`, password: PASSWORD },
          headers: { 'x-forwarded-for': `2001:db8:0:7::${i + 1}` },
        }),
      );
      await overload.hashingReaches(workers, i + 1);
    }

    // A registration too, from the next /64: another client's, so it takes a place (were
    // registrations all one client, or each address its own, it would be refused at once).
    const other = service.post('/user/register/v2', {
      appId: tenant.app.id,
      token: tenant.adminToken,
      body: { username: 'other_client', password: PASSWORD },
      headers: { 'x-forwarded-for': '2001:db8:0:8::1' },
    });
    const displaced = await flood.at(-1)!;
    expectError(displaced, 503, 50003);
    await overload.hashingReaches(workers, 2 * workers);

    for (const reply of await Promise.all(blockers)) expectError(reply, 401, 10101);
    expect((await other).body.code).toBe(200);
    for (const reply of await Promise.all(flood.slice(0, -1))) expect(reply.body.code).toBe(200);
    const users = service.dataSource.getRepository(UserEntity);
    expect(await users.countBy({ appId: tenant.app.id, username: `flood_${2 * workers - 1}` })).toBe(0); // the displaced one wrote nothing
  });
});
