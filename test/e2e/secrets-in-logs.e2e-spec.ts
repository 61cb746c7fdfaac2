/**
 * No secret ever reaches the log. The real entry point runs as a process at its most talkative
 * (LOG_LEVEL=verbose) on the embedded database with the demo seed; it is driven through logins,
 * failed logins, refused tokens, malformed bodies and errors that carry passwords, then stopped,
 * and everything it wrote to stdout and stderr is searched for every secret it saw or made:
 * passwords (right and wrong), the demo password, admin tokens, access and store tokens, push
 * tokens, access_key_secret, the master key, private keys and password hashes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServiceProcess, type RunningService } from '../support/processes';

/** Unique per run, so that a match in the log can only be a leak. */
const secret = (label: string) => `${label}-${randomBytes(12).toString('base64url')}`;

interface Answer {
  status: number;
  body: any;
}

describe('secrets in the logs of the running service', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-auth-secrets-'));
  let running: RunningService | undefined;
  let output = '';
  let exitCode: number | null = null;
  /** Every secret the service saw or made, by what it is. */
  const secrets = new Map<string, string>();
  const keep = (label: string, value: unknown) => {
    if (typeof value !== 'string' || value.length < 8) throw new Error(`${label} is not a secret string: ${String(value)}`);
    secrets.set(label, value);
  };
  const answers: Record<string, Answer> = {};

  beforeAll(async () => {
    // Without MASTER_KEY the service makes one in DATA_DIR: one more secret to look for.
    running = await startServiceProcess({ DATA_DIR: dataDir, SEED_DEMO: 'true', LOG_LEVEL: 'verbose', MASTER_KEY: undefined });
    const base = running.baseUrl;
    const appId = /Created the demo app (\w+)/.exec(running.output())?.[1];
    if (!appId) throw new Error(`the demo app's id is not in the log:\n${running.output()}`);
    const adminToken = readFileSync(join(dataDir, 'demo-admin-token'), 'utf8').trim();
    const demoLogin = JSON.parse(readFileSync(join(dataDir, 'demo-login.json'), 'utf8')) as { name: string; password: string };
    keep('admin token', adminToken);
    keep('admin token without its prefix', adminToken.replace(/^adm_/, ''));
    keep('demo password', demoLogin.password);
    keep('master key', readFileSync(join(dataDir, 'master.key'), 'utf8').trim());

    const send = async (label: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string }) => {
      const response = await fetch(`${base}${path}`, {
        method: init.method ?? 'POST',
        headers: { app_id: appId, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
        body: init.body,
      });
      const text = await response.text();
      answers[label] = { status: response.status, body: JSON.parse(text) };
      return answers[label];
    };
    const json = (value: unknown) => JSON.stringify(value);

    const password = secret('right-password');
    keep('registered password', password);
    const registered = await send('register', '/user/register/v2', {
      headers: { 'access-token': adminToken },
      body: json({ username: 'log_watch', password, email: 'log_watch@example.com' }),
    });
    const userId = registered.body.data?.user_id;

    const logins: Array<[string, string, Record<string, unknown>]> = [
      ['login by id', '/token/id', { user_id: userId, password, device_guid: 'log-watch-phone-1' }],
      ['login by login name', '/token/login', { login_name: 'log_watch@example.com', password, device_guid: 'log-watch-phone-2' }],
      ['login by username', '/token/user', { name: 'log_watch', password, device_guid: 'log-watch-phone-3' }],
      ['demo login', '/token/user', { name: demoLogin.name, password: demoLogin.password, device_guid: 'demo-phone' }],
    ];
    for (const [label, path, body] of logins) {
      const answer = await send(label, path, { body: json(body) });
      for (const name of ['token', 'store_token', 'push_token', 'access_key_secret'] as const) {
        const value = answer.body.data?.[name];
        keep(`${name} of ${label}`, value);
        // A token cut short in a log line is still a leak: look for its signature alone too.
        if (name === 'token' || name === 'store_token') keep(`signature of the ${name} of ${label}`, String(value).split('.')[2]);
      }
    }
    const userToken = secrets.get('token of login by username')!;

    const wrongPassword = secret('wrong-password');
    keep('wrong password', wrongPassword);
    await send('wrong password', '/token/user', { body: json({ name: 'log_watch', password: wrongPassword }) });
    const unknownUserPassword = secret('unknown-user-password');
    keep('password of an unknown user', unknownUserPassword);
    await send('unknown user', '/token/login', { body: json({ login_name: 'nobody@example.com', password: unknownUserPassword }) });
    const wrongByIdPassword = secret('wrong-id-password');
    keep('wrong password by id', wrongByIdPassword);
    await send('wrong password by id', '/token/id', { body: json({ user_id: userId, password: wrongByIdPassword }) });

    const garbageToken = secret('garbage-token');
    keep('garbage token', garbageToken);
    await send('garbage admin token', '/user/list?page_num=1&page_size=5', { method: 'GET', headers: { 'access-token': garbageToken } });
    const revokedLooking = `adm_${randomBytes(32).toString('base64url')}`;
    keep('revoked-looking admin token', revokedLooking);
    await send('revoked-looking admin token', '/user/list?page_num=1&page_size=5', { method: 'GET', headers: { 'access-token': revokedLooking } });
    await send('user token on an admin route', '/user/list?page_num=1&page_size=5', { method: 'GET', headers: { 'access-token': userToken } });

    const malformedPassword = secret('malformed-body-password');
    keep('password in a malformed body', malformedPassword);
    await send('malformed body', '/token/user', { body: `{"name": "log_watch", "password": "${malformedPassword}"` });
    const textPassword = secret('text-body-password');
    keep('password in a text/plain body', textPassword);
    await send('text body', '/token/user', { headers: { 'content-type': 'text/plain' }, body: json({ name: 'log_watch', password: textPassword }) });

    const missingNamePassword = secret('missing-name-password');
    keep('password of a body without name', missingNamePassword);
    await send('10002 with a password', '/token/user', { body: json({ password: missingNamePassword }) });
    const weakPassword = secret('bad-username-password');
    keep('password of a refused registration', weakPassword);
    await send('refused registration', '/user/register/v2', {
      headers: { 'access-token': adminToken },
      body: json({ username: 'not valid!', password: weakPassword }),
    });
    const longPassword = `${secret('too-long-password')}${'p'.repeat(300)}`;
    keep('password over the maximum', longPassword);
    await send('password over the maximum', '/token/user', { body: json({ name: 'log_watch', password: longPassword }) });
    // An input that may reach the database and fail there: the unexpected-error log path.
    const oddPassword = secret('odd-input-password');
    keep('password sent with an odd username', oddPassword);
    await send('odd username', '/token/user', { body: json({ name: 'log\u0000watch', password: oddPassword }) });

    exitCode = await running.stop();
    output = running.output();
    running = undefined;
  }, 120_000);

  afterAll(async () => {
    if (running) await running.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops with exit code 0', () => {
    expect(exitCode).toBe(0);
  });

  it('answered each request as expected, so the log saw what it was meant to see', () => {
    const codes = Object.fromEntries(Object.entries(answers).map(([label, answer]) => [label, answer.body.code]));
    expect(codes).toEqual({
      register: 200,
      'login by id': 200,
      'login by login name': 200,
      'login by username': 200,
      'demo login': 200,
      'wrong password': 10101,
      'unknown user': 10101,
      'wrong password by id': 10101,
      'garbage admin token': 10008,
      'revoked-looking admin token': 10008,
      'user token on an admin route': 10010,
      'malformed body': 10002,
      'text body': 10105,
      '10002 with a password': 10002,
      'refused registration': 10002,
      'password over the maximum': 10002,
      'odd username': expect.any(Number),
    });
  });

  it('logged at all: the start-up, the routes, the demo app and the stop', () => {
    expect(output.length).toBeGreaterThan(0);
    expect(output).toContain('Listening on');
    expect(output).toContain('Created the demo app');
    expect(output).toMatch(/Mapped \{\/token\/user, POST\} route/);
    expect(output).toContain('SIGTERM: finishing in-flight requests');
    expect(output).toContain('Stopped');
  });

  it('logged no secret it saw or made', () => {
    expect(secrets.size).toBeGreaterThanOrEqual(30);
    const leaked = [...secrets].filter(([, value]) => output.includes(value)).map(([label]) => label);
    expect(leaked).toEqual([]);
  });

  it('logged no password hash and no private key', () => {
    expect(output).not.toContain('$argon2id$');
    expect(output).not.toContain('$argon2');
    expect(output).not.toMatch(/-----BEGIN (RSA |ENCRYPTED )?PRIVATE KEY-----/);
  });
});
