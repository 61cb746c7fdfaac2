/**
 * The operator CLI as a real process: provisioning on DATABASE_URL, and on the embedded database
 * while the service runs on it (the newcomer's default set-up), with data kept across restarts.
 */
import { mkdtempSync, readFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestService, TEST_MASTER_KEY, expectError } from '../support/test-service';
import { runCli, startServiceProcess, type RunningService } from '../support/processes';

const PASSWORD = 'correct horse battery';

async function postJson(baseUrl: string, path: string, headers: Record<string, string>, body: unknown) {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe('the CLI on DATABASE_URL', () => {
  let service: TestService;
  const env = () => ({ DATABASE_URL: process.env.TEST_DATABASE_URL, MASTER_KEY: TEST_MASTER_KEY, DATA_DIR: mkdtempSync(join(tmpdir(), 'im-auth-cli-')) });

  beforeAll(async () => {
    service = await TestService.start();
  });
  afterAll(() => service.close());

  it('creates an app and prints {app_id, admin_token} as its last line, usable at once over HTTP', async () => {
    const created = await runCli(['app', 'create', '--name', 'cli-app', '--default-region', 'CN'], env());
    expect(created.code).toBe(0);
    expect(Object.keys(created.json).sort()).toEqual(['admin_token', 'app_id']);
    expect(created.json.admin_token).toMatch(/^adm_/);

    const user = await runCli(['user', 'create', '--app', created.json.app_id, '--username', 'cli_user', '--password-stdin'], env(), `${PASSWORD}\n`);
    expect(user.code).toBe(0);
    expect(user.json).toMatchObject({ username: 'cli_user' });
    expect(user.json.password).toBeUndefined();

    const login = await service.post('/token/user', { appId: created.json.app_id, body: { name: 'cli_user', password: PASSWORD } });
    expect(login.body.code).toBe(200);
    expect(login.body.data.user_id).toBe(user.json.user_id);

    const list = await service.call('GET', '/user/list', { appId: created.json.app_id, token: created.json.admin_token });
    expect(list.body.data).toEqual([{ user_id: user.json.user_id, username: 'cli_user', status: 0 }]);
  });

  it('makes and revokes admin tokens; a revoked one is refused with 10008', async () => {
    const { json: app } = await runCli(['app', 'create', '--name', 'tokens'], env());
    const second = await runCli(['admin-token', 'create', '--app', app.app_id, '--label', 'ops'], env());
    expect(second.json).toMatchObject({ app_id: app.app_id });
    const before = await service.call('GET', '/user/list', { appId: app.app_id, token: second.json.admin_token });
    expect(before.body.code).toBe(200);

    const revoked = await runCli(['admin-token', 'revoke', '--token', second.json.admin_token], env());
    expect(revoked.json).toEqual({ revoked: true });
    // The admin token is looked up on every call, so revocation is immediate.
    expectError(await service.call('GET', '/user/list', { appId: app.app_id, token: second.json.admin_token }), 401, 10008);

    // A verifier token reads the app's revocation log, and is no admin anywhere else.
    const verifier = await runCli(['admin-token', 'create', '--app', app.app_id, '--label', 'chat-service', '--scope', 'verifier'], env());
    expect(verifier.json).toMatchObject({ app_id: app.app_id, scope: 'verifier' });
    expect((await service.call('GET', '/token/revocations', { appId: app.app_id, token: verifier.json.admin_token })).body.code).toBe(200);
    expectError(await service.call('GET', '/user/list', { appId: app.app_id, token: verifier.json.admin_token }), 401, 10008);
    const listed = await runCli(['admin-token', 'list', '--app', app.app_id], env());
    expect(listed.json.find((token: { id: string }) => token.id === verifier.json.id)).toMatchObject({ label: 'chat-service', scope: 'verifier' });
    const bogus = await runCli(['admin-token', 'create', '--app', app.app_id, '--scope', 'root'], env());
    expect({ code: bogus.code, stderr: bogus.stderr.trim() }).toEqual({ code: 2, stderr: 'error: --scope takes admin or verifier' });
  });

  it('generates and prints a password when none is given', async () => {
    const { json: app } = await runCli(['app', 'create', '--name', 'generated'], env());
    const user = await runCli(['user', 'create', '--app', app.app_id, '--username', 'gen_user'], env());
    expect(user.json.password).toEqual(expect.any(String));
    const login = await service.post('/token/user', { appId: app.app_id, body: { name: 'gen_user', password: user.json.password } });
    expect(login.body.code).toBe(200);
  });

  it('sets and changes per-app settings, the login throttle included', async () => {
    const { json: app } = await runCli(['app', 'create', '--name', 'tuned', '--login-free-failures', '2', '--token-ttl', '600'], env());
    await runCli(['user', 'create', '--app', app.app_id, '--username', 'tuned_user', '--password', PASSWORD], env());
    const listed = (await runCli(['app', 'list'], env())).json.find((item: { app_id: string }) => item.app_id === app.app_id);
    expect(listed).toMatchObject({ login_free_failures: 2, token_ttl_seconds: 600, open_registration: false });

    const attempt = (password: string) => service.post('/token/user', { appId: app.app_id, body: { name: 'tuned_user', password } });
    for (const password of ['wrong 1', 'wrong 2', 'wrong 3']) expectError(await attempt(password), 401, 10101);
    expectError(await attempt(PASSWORD), 429, 10103);

    const updated = await runCli(['app', 'update', '--app', app.app_id, '--open-registration', '--disable'], env());
    expect(updated.json).toMatchObject({ open_registration: true, status: 1 });
    // The service caches apps for a few seconds; a disabled app is refused once the cache turns over.
    await new Promise((resolve) => setTimeout(resolve, 5200));
    expectError(await attempt(PASSWORD), 404, 40000, /disabled/);
  });

  it('explains a mistake on stderr and exits non-zero', async () => {
    const missing = await runCli(['app', 'create'], env());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--name is required/);
    const badUser = await runCli(['user', 'create', '--app', 'nope', '--username', 'x_1'], env());
    expect(badUser.code).toBe(2);
    expect(badUser.stderr).toMatch(/No app nope/);
  });
});

describe('npm start on the embedded database, with the CLI beside it', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-auth-embedded-'));
  const env = { DATA_DIR: dataDir, SEED_DEMO: 'true' };
  let running: RunningService | undefined;

  afterAll(async () => {
    await running?.stop();
  });

  it('seeds a demo app whose curl line logs in, without printing its secrets', async () => {
    running = await startServiceProcess(env);
    const appId = /Created the demo app (\w+)/.exec(running.output())?.[1];
    expect(appId).toBeDefined();
    const loginFile = join(dataDir, 'demo-login.json');
    expect(statSync(loginFile).mode & 0o077).toBe(0);
    const body = readFileSync(loginFile, 'utf8');
    const { password } = JSON.parse(body);
    expect(running.output()).not.toContain(password);
    expect(running.output()).not.toContain(readFileSync(join(dataDir, 'demo-admin-token'), 'utf8'));
    expect(running.output()).toMatch(/curl .*\/token\/user .*-d @/);

    const login = await postJson(running.baseUrl, '/token/user', { app_id: appId! }, body);
    expect(login.body.code).toBe(200);
  });

  it('lets the CLI provision through the running service, and keeps the data across a restart', async () => {
    const app = await runCli(['app', 'create', '--name', 'beside-npm-start'], env);
    expect(app.code).toBe(0);
    const user = await runCli(['user', 'create', '--app', app.json.app_id, '--username', 'persisted', '--password', PASSWORD], env);
    expect(user.code).toBe(0);

    const first = await postJson(running!.baseUrl, '/token/user', { app_id: app.json.app_id }, { name: 'persisted', password: PASSWORD, device_guid: 'phone-1' });
    expect(first.body.code).toBe(200);

    expect(await running!.stop()).toBe(0);
    expect(existsSync(join(dataDir, 'embedded-postgres.json'))).toBe(false);

    running = await startServiceProcess(env);
    expect(running.output()).not.toMatch(/Created the demo app/);
    const again = await postJson(running.baseUrl, '/token/user', { app_id: app.json.app_id }, { name: 'persisted', password: PASSWORD, device_guid: 'phone-1' });
    expect(again.body.code).toBe(200);
    expect(again.body.data.push_token).toBe(first.body.data.push_token);
  });

  it('rotates the keys beside it: the lone running service signs with the new key within two seconds', async () => {
    // The embedded database cannot carry a NOTIFY from the CLI's connection to the service's (one
    // PGlite session behind the socket); the service re-reads the keys every second instead.
    const app = await runCli(['app', 'create', '--name', 'rotating-beside-npm-start'], env);
    await runCli(['user', 'create', '--app', app.json.app_id, '--username', 'rotated', '--password', PASSWORD], env);
    const kid = async () => {
      const login = await postJson(running!.baseUrl, '/token/user', { app_id: app.json.app_id }, { name: 'rotated', password: PASSWORD });
      return JSON.parse(Buffer.from(login.body.data.token.split('.')[0], 'base64url').toString()).kid as string;
    };
    const before = await kid();
    const rotated = await runCli(['keys', 'rotate'], env);
    expect(rotated.json.retired).toBe(before);
    const started = Date.now();
    while ((await kid()) !== rotated.json.kid && Date.now() - started < 5000) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await kid()).toBe(rotated.json.kid);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
