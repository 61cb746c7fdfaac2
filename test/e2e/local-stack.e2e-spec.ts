/**
 * `docker compose up` with no set-up. No Docker engine runs here, so this runs what the auth
 * container runs, as a process: the service's entry point with the image's NODE_ENV=production,
 * a PostgreSQL of its own (the compose file's `postgres`: a fresh server, since the keys it seals
 * must not meet another master key's) and a DATA_DIR standing for the auth-data volume, without
 * MASTER_KEY (what docker-compose.yml passes when none is set). The first start generates the
 * master key there and says so; a restart uses the same key, so what it sealed (the signing keys)
 * still opens and tokens stay valid. As in the container, no demo app is made: the operator creates
 * one with the CLI. CI checks the other half, that the compose file validates with no environment
 * (.ci/run).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServiceProcess, type RunningService } from '../support/processes';
import { ThrowawayPostgres } from '../support/throwaway-postgres';
import { createTestDatabase } from '../support/test-database';
import { PlatformSdkClient } from '../support/platform-sdk-client';
import { TEST_MASTER_KEY } from '../support/test-service';

const PASSWORD = 'correct horse battery';

const asInContainer = (databaseUrl: string, dataDir: string, env: Record<string, string | undefined> = {}) => ({
  DATABASE_URL: databaseUrl,
  DATA_DIR: dataDir,
  NODE_ENV: 'production',
  MASTER_KEY: undefined,
  ERROR_HTTP_STATUS: '200',
  ...env,
});

describe('the local stack without MASTER_KEY', () => {
  const volumes: string[] = [];
  const newVolume = () => {
    volumes.push(mkdtempSync(join(tmpdir(), 'im-auth-volume-')));
    return volumes[volumes.length - 1];
  };
  const dataDir = newVolume();
  const keyFile = join(dataDir, 'master.key');
  const login = { name: 'stack_user', password: PASSWORD };
  let postgres: ThrowawayPostgres;
  let running: RunningService | undefined;
  /** What the first start wrote, and the SDK as it was signed in to it. */
  let firstOutput = '';
  let firstSdk: PlatformSdkClient;

  beforeAll(async () => {
    postgres = await ThrowawayPostgres.create();
    const env = asInContainer(postgres.url, dataDir);
    const first = await startServiceProcess(env);
    try {
      firstOutput = first.output();
      // What an operator does next, in the container: an app and a user, through the CLI.
      const app = await runCli(['app', 'create', '--name', 'stack'], env);
      if (app.code !== 0) throw new Error(`app create failed: ${app.stderr}`);
      const user = await runCli(['user', 'create', '--app', app.json.app_id, '--username', login.name, '--password-stdin'], env, `${PASSWORD}\n`);
      if (user.code !== 0) throw new Error(`user create failed: ${user.stderr}`);
      firstSdk = new PlatformSdkClient(first.baseUrl, app.json.app_id);
      expect(await firstSdk.login('/token/user', login)).toMatchObject({ ok: true });
      expect(await firstSdk.get('/user/device/list')).toEqual({ ok: true, data: [] });
    } finally {
      await first.stop();
    }
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });
  afterAll(async () => {
    await postgres?.dispose();
    for (const dir of volumes) rmSync(dir, { recursive: true, force: true });
  });

  it('generates the master key in DATA_DIR on the first start, saying where and that production must set MASTER_KEY', () => {
    expect(firstOutput).toContain(`generated a master key in ${keyFile}`);
    expect(firstOutput).toContain('Production must set MASTER_KEY');
    expect(readFileSync(keyFile, 'utf8')).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  });

  it('starts again on the same key: the token of the first start still works, and new logins too', async () => {
    const key = readFileSync(keyFile, 'utf8');
    running = await startServiceProcess(asInContainer(postgres.url, dataDir));
    expect(running.output()).toContain(`using the master key in ${keyFile}. Production must set MASTER_KEY`);
    expect(running.output()).not.toContain('generated a master key');
    expect(readFileSync(keyFile, 'utf8')).toBe(key);

    // The SDK as it was, holding its token, against the restarted service (a new port, the same data).
    const sdk = new PlatformSdkClient(running.baseUrl, firstSdk.appId);
    sdk.token = firstSdk.token;
    expect(await sdk.get('/user/device/list')).toEqual({ ok: true, data: [] });
    expect(await sdk.login('/token/user', login)).toMatchObject({ ok: true });
    expect(await sdk.get('/user/device/list')).toEqual({ ok: true, data: [] });
  });

  it('uses MASTER_KEY when it is set, and makes no key file', async () => {
    const ownVolume = newVolume();
    // A second database on that server: the first one's keys are sealed with the generated key.
    const ownDatabase = await createTestDatabase(postgres.url);
    running = await startServiceProcess(asInContainer(ownDatabase.url, ownVolume, { MASTER_KEY: TEST_MASTER_KEY }));
    expect(running.output()).not.toContain('MASTER_KEY is not set');
    expect(existsSync(join(ownVolume, 'master.key'))).toBe(false);
  });
});
