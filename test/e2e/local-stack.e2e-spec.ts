/**
 * `docker compose up` with no set-up. No Docker engine runs here, so this runs what the auth
 * container runs, as a process: the service's entry point with the image's NODE_ENV=production
 * and a DATA_DIR standing for the auth-data volume, without MASTER_KEY (what docker-compose.yml
 * passes when none is set). The first start generates the master key there and says so; a restart
 * uses the same key, so what it sealed (the signing keys) still opens and tokens stay valid.
 * CI checks the other half, that the compose file validates with no environment (.ci/run).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServiceProcess, type RunningService } from '../support/processes';
import { PlatformSdkClient } from '../support/platform-sdk-client';
import { TEST_MASTER_KEY } from '../support/test-service';

const asInContainer = (dataDir: string, env: Record<string, string | undefined> = {}) => ({
  DATA_DIR: dataDir,
  NODE_ENV: 'production',
  SEED_DEMO: 'true',
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
  const demoLogin = () => JSON.parse(readFileSync(join(dataDir, 'demo-login.json'), 'utf8')) as { name: string; password: string };
  let running: RunningService | undefined;
  /** What the first start wrote, and the SDK as it was signed in to it. */
  let firstOutput = '';
  let firstSdk: PlatformSdkClient;

  beforeAll(async () => {
    const first = await startServiceProcess(asInContainer(dataDir));
    try {
      firstOutput = first.output();
      const appId = /Created the demo app (\w+)/.exec(firstOutput)?.[1];
      if (!appId) throw new Error(`the demo app's id is not in the log:\n${firstOutput}`);
      firstSdk = new PlatformSdkClient(first.baseUrl, appId);
      expect(await firstSdk.login('/token/user', demoLogin())).toMatchObject({ ok: true });
      expect(await firstSdk.get('/user/device/list')).toEqual({ ok: true, data: [] });
    } finally {
      await first.stop();
    }
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });
  afterAll(() => {
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
    running = await startServiceProcess(asInContainer(dataDir));
    expect(running.output()).toContain(`using the master key in ${keyFile}. Production must set MASTER_KEY`);
    expect(running.output()).not.toContain('generated a master key');
    expect(readFileSync(keyFile, 'utf8')).toBe(key);

    // The SDK as it was, holding its token, against the restarted service (a new port, the same data).
    const sdk = new PlatformSdkClient(running.baseUrl, firstSdk.appId);
    sdk.token = firstSdk.token;
    expect(await sdk.get('/user/device/list')).toEqual({ ok: true, data: [] });
    expect(await sdk.login('/token/user', demoLogin())).toMatchObject({ ok: true });
    expect(await sdk.get('/user/device/list')).toEqual({ ok: true, data: [] });
  });

  it('uses MASTER_KEY when it is set, and makes no key file', async () => {
    const ownVolume = newVolume();
    running = await startServiceProcess(asInContainer(ownVolume, { MASTER_KEY: TEST_MASTER_KEY, SEED_DEMO: 'false' }));
    expect(running.output()).not.toContain('MASTER_KEY is not set');
    expect(existsSync(join(ownVolume, 'master.key'))).toBe(false);
  });
});
