/**
 * The service's life as a process, run like production: the real entry point (`npm start`'s) on
 * its own embedded database under DATA_DIR, or on the run's DATABASE_URL server when there is one.
 *
 * One life, start to restart: users log in from their devices; SIGTERM arrives in the middle of a
 * login burst, and the logins already accepted all finish with 200 while new connections are
 * refused and the process exits 0 in time; started again on the same data, nothing written before
 * is lost: users, devices with their push tokens, sessions (the burst's included).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { openEmbeddedPostgres } from '../../libs/persistence/src/embedded-postgres';
import { TEST_MASTER_KEY, decodeJwt } from '../support/test-service';
import { runCli, startServiceProcess, type RunningService } from '../support/processes';
import { holdConnection, send, startRequest, tryConnect, type Outcome } from '../support/fresh-connection-client';
import { ensureStopped, isRunning, waitForExit } from '../support/process-exit';

const PASSWORD = 'correct horse battery';
/** The process must be gone this soon after SIGTERM. */
const EXIT_BOUND_MS = 15_000;
/** After SIGTERM, new connections must be refused this soon. */
const REFUSE_BOUND_MS = 1000;
const BURST = 40;

const onServer = process.env.TEST_DATABASE_KIND === 'server';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const kindOf = (outcome: Outcome) => outcome.error ?? `${outcome.status}/${outcome.body?.code}`;

interface SessionRow {
  jti: string;
  user_id: string;
  device_id: string | null;
  revoked_at: Date | null;
}

describe('the service process from start through SIGTERM to a restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-auth-lifecycle-'));
  /** Its own DATA_DIR, and the run's server database when there is one. */
  const env = { DATA_DIR: dataDir, MASTER_KEY: TEST_MASTER_KEY, SEED_DEMO: 'false', ...(onServer ? { DATABASE_URL: process.env.TEST_DATABASE_URL } : {}) };
  let running: RunningService | undefined;
  let appId = '';
  let adminToken = '';
  /** What was written before the restart, as the service answered it then. */
  const before = {
    phone: undefined as Outcome | undefined,
    tablet: undefined as Outcome | undefined,
    users: [] as unknown[],
    devices: [] as unknown[],
    sessions: [] as SessionRow[],
    burstJtis: [] as string[],
  };

  const loginFrom = (name: string, deviceGuid?: string) =>
    send(running!.baseUrl, 'POST', '/token/user', { headers: { app_id: appId }, body: { name, password: PASSWORD, device_guid: deviceGuid } });
  const listUsers = () => send(running!.baseUrl, 'GET', '/user/list?page_num=1&page_size=100', { headers: { app_id: appId, 'access-token': adminToken } });
  const listDevices = (token: string) => send(running!.baseUrl, 'GET', '/user/device/list', { headers: { app_id: appId, 'access-token': token } });

  /**
   * The app's session rows, read straight from the service's database while it runs. The embedded
   * one is joined as the CLI joins it, through the socket the service serves (named in
   * DATA_DIR/embedded-postgres.json): its data files are never opened a second time.
   */
  async function sessionRows(): Promise<SessionRow[]> {
    const url = onServer ? process.env.TEST_DATABASE_URL : (await openEmbeddedPostgres(dataDir)).url;
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<SessionRow>('SELECT jti, user_id, device_id, revoked_at FROM session WHERE app_id = $1 ORDER BY jti', [appId]);
      return rows;
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    running = await startServiceProcess(env);
    // Provisioned as an operator does it: the CLI beside the running service.
    // BURST logins of one user are in flight at once, which the throttle counts as attempts.
    const created = await runCli(['app', 'create', '--name', 'lifecycle', '--login-free-failures', '100'], env);
    if (created.code !== 0) throw new Error(`app create failed (${created.code}): ${created.stderr}`);
    ({ app_id: appId, admin_token: adminToken } = created.json);
    for (const username of ['life_a', 'life_b', 'burst_user']) {
      const reply = await send(running.baseUrl, 'POST', '/user/register/v2', {
        headers: { app_id: appId, 'access-token': adminToken },
        body: { username, password: PASSWORD },
      });
      if (reply.status !== 200) throw new Error(`registering ${username} failed: ${reply.error ?? JSON.stringify(reply.body)}`);
    }
    before.phone = await loginFrom('life_a', 'life-phone');
    before.tablet = await loginFrom('life_b', 'life-tablet');
    if (before.phone.status !== 200 || before.tablet.status !== 200) throw new Error('the first logins failed');
    before.users = (await listUsers()).body.data;
    before.devices = (await listDevices(before.phone.body.data.token)).body.data;
    before.sessions = await sessionRows();
  }, 90_000);

  afterAll(async () => {
    await ensureStopped(running);
    rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('finishes every accepted login with 200 after SIGTERM, refuses new connections and exits 0', async () => {
    const child = running!.process;
    const requests = Array.from({ length: BURST }, () =>
      startRequest(running!.baseUrl, 'POST', '/token/user', { headers: { app_id: appId }, body: { name: 'burst_user', password: PASSWORD } }),
    );
    const settled = new Set<number>();
    requests.forEach((request, index) => void request.outcome.then(() => settled.add(index)));
    // "Accepted" is exact here: every request is on the wire, and a request on a connection opened
    // after theirs has its reply, so the service has accepted every burst connection (the accept
    // queue is first in, first out) and read its request. (A connection still waiting in the
    // kernel's accept queue when the listener closes is reset: it was never accepted.)
    await Promise.all(requests.map((request) => request.written));
    // A keep-alive client with a login in flight, behind the burst's: it will send more on this connection.
    const held = await holdConnection(running!.baseUrl);
    await held.send('POST', '/token/user', { headers: { app_id: appId }, body: { name: 'burst_user', password: PASSWORD } });
    const probe = await send(running!.baseUrl, 'GET', '/health/live');
    expect(probe.status).toBe(200);

    const signalledAt = Date.now();
    child.kill('SIGTERM');

    // New connections are refused, soon after the signal, while the burst is still in flight.
    const probes: string[] = [];
    while (Date.now() - signalledAt < REFUSE_BOUND_MS) {
      probes.push(await tryConnect(running!.baseUrl));
      if (probes.at(-1) === 'ECONNREFUSED') break;
      await sleep(20);
    }
    const inFlightWhenRefused = BURST - settled.size;
    for (let i = 0; i < 3; i++) probes.push(await tryConnect(running!.baseUrl));
    // Until the signal is handled a connection may still be accepted; from the first refusal on, none is.
    expect(probes.slice(probes.indexOf('ECONNREFUSED'))).toEqual(Array(4).fill('ECONNREFUSED'));
    expect(inFlightWhenRefused).toBeGreaterThan(0);
    // The service is closing: a request arriving now on a connection that is still busy is
    // answered like any other, in the envelope (Fastify alone would answer a bare 503).
    await held.send('GET', '/health/live');

    // Every login that was accepted completes with a token: none is cut off.
    const outcomes = await Promise.all(requests.map((request) => request.outcome));
    expect(outcomes.map(kindOf)).toEqual(Array(BURST).fill('200/200'));
    before.burstJtis = outcomes.map((outcome) => decodeJwt(outcome.body.data.token).claims.jti as string);
    const heldReplies = await held.replies;
    expect(heldReplies.map((reply) => [reply.status, reply.body?.code])).toEqual([
      [200, 200],
      [200, 200],
    ]);
    expect(heldReplies[1].body).toEqual({ code: 200, message: null, data: { status: 'up' } });

    // And the process ends by itself, with 0, in time.
    const exit = await waitForExit(child, EXIT_BOUND_MS, signalledAt);
    expect({ code: exit.code, signal: exit.signal, killedAfterBound: exit.timedOut }).toEqual({ code: 0, signal: null, killedAfterBound: false });
  }, 60_000);

  it('keeps every user, device, push token and session across a restart on the same data', async () => {
    // Standing alone when the SIGTERM test failed: the first life ends here either way.
    await ensureStopped(running);
    running = await startServiceProcess(env);

    // The devices are known: same push token, same device_sn.
    const phone = await loginFrom('life_a', 'life-phone');
    expect(kindOf(phone)).toBe('200/200');
    expect(phone.body.data.push_token).toBe(before.phone!.body.data.push_token);
    expect(phone.body.data.user_id).toBe(before.phone!.body.data.user_id);
    expect(decodeJwt(phone.body.data.token).claims.device_sn).toBe(decodeJwt(before.phone!.body.data.token).claims.device_sn);
    const tablet = await loginFrom('life_b', 'life-tablet');
    expect(tablet.body.data.push_token).toBe(before.tablet!.body.data.push_token);

    // The users are the same, in the same order, and so are the devices.
    expect((await listUsers()).body.data).toEqual(before.users);
    expect(before.users).toHaveLength(3);
    expect((await listDevices(phone.body.data.token)).body.data).toEqual(before.devices);

    // Every session row from before is there unchanged, the burst's (finished during the drain) too.
    const sessions = await sessionRows();
    expect(sessions).toEqual(expect.arrayContaining(before.sessions));
    expect(before.sessions).toHaveLength(2);
    const stored = new Set(sessions.map((session) => session.jti));
    expect(before.burstJtis.filter((jti) => !stored.has(jti))).toEqual([]);
    // A token issued before the restart is still honoured: its session and the signing key survived.
    const oldToken = await listDevices(before.phone!.body.data.token);
    expect(kindOf(oldToken)).toBe('200/200');
    expect(isRunning(running.process)).toBe(true);
  }, 60_000);
});
