/**
 * A log reader that stops reading does not stop the service. The real entry point runs as a
 * process whose stdout is a pipe nobody ever reads (a stuck log shipper): once the pipe is full,
 * a synchronous logger would block the event loop on it and every request would hang. Here the
 * service goes on answering, drops the lines its bounded buffer cannot hold, counts them in
 * /metrics, and still stops cleanly on SIGTERM.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_MASTER_KEY } from '../support/test-service';
import { runCli, startServiceProcess, type RunningService } from '../support/processes';
import { ensureStopped, signalAndWait } from '../support/process-exit';

const PASSWORD = 'correct horse battery';
const onServer = process.env.TEST_DATABASE_KIND === 'server';
/** A request line of about 8 KB (its path is logged twice): 200 of them are far more than a pipe (64 KiB) and the 1 MiB buffer. */
const LONG_PATH = `/nothing-here/${'x'.repeat(4000)}`;
const REQUESTS = 200;
/** Any reply slower than this counts as a hang. */
const REPLY_BOUND_MS = 10_000;

describe('the service with a stdout nobody reads', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-auth-unread-'));
  const env = {
    DATA_DIR: dataDir,
    MASTER_KEY: TEST_MASTER_KEY,
    SEED_DEMO: 'false',
    LOG_LEVEL: 'log',
    ...(onServer ? { DATABASE_URL: process.env.TEST_DATABASE_URL } : {}),
  };
  let running: RunningService | undefined;
  let appId = '';

  const call = (method: string, path: string, init: { headers?: Record<string, string>; body?: unknown } = {}) =>
    fetch(`${running!.baseUrl}${path}`, {
      method,
      headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(REPLY_BOUND_MS),
    });
  const login = async () => {
    const reply = await call('POST', '/token/user', { headers: { app_id: appId }, body: { name: 'reader_gone', password: PASSWORD } });
    return ((await reply.json()) as { code: number }).code;
  };

  beforeAll(async () => {
    running = await startServiceProcess(env, { stdout: 'unread', timeoutMs: 90_000 });
    const app = await runCli(['app', 'create', '--name', 'unread-logs'], env);
    if (app.code !== 0) throw new Error(`app create failed: ${app.stderr}`);
    appId = app.json.app_id;
    const user = await runCli(['user', 'create', '--app', appId, '--username', 'reader_gone', '--password-stdin'], env, `${PASSWORD}\n`);
    if (user.code !== 0) throw new Error(`user create failed: ${user.stderr}`);
  }, 120_000);

  afterAll(async () => {
    await ensureStopped(running);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers every request after the pipe and the log buffer are full, logins included', async () => {
    expect(await login()).toBe(200);
    for (let sent = 0; sent < REQUESTS; sent += 10) {
      const replies = await Promise.all(Array.from({ length: 10 }, () => call('GET', LONG_PATH)));
      expect(replies.map((reply) => reply.status)).toEqual(Array(10).fill(404));
    }
    expect(await login()).toBe(200);
    expect(await login()).toBe(200);
  });

  it('counts the lines it dropped in /metrics', async () => {
    const metrics = await (await call('GET', '/metrics')).text();
    const dropped = Number(/^log_lines_dropped_total (\d+)$/m.exec(metrics)?.[1]);
    expect(dropped).toBeGreaterThan(0);
  });

  it('still stops on SIGTERM, without waiting for the reader', async () => {
    const exit = await signalAndWait(running!.process, 'SIGTERM', 15_000);
    expect({ code: exit.code, timedOut: exit.timedOut }).toEqual({ code: 0, timedOut: false });
  });
});
