/**
 * The embedded database as `npm start` runs it, and what keeps it private: DATA_DIR is mode 0700,
 * the database is served on a unix socket inside it (no TCP port, no password to steal), the CLI
 * reaches it there while the service runs, production refuses it unless told it is meant, and the
 * demo is seeded only for the local default, into new files that no planted link can redirect.
 */
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_MASTER_KEY } from '../support/test-service';
import { runCli, startServiceProcess, type RunningService } from '../support/processes';
import { ensureStopped } from '../support/process-exit';

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('npm start on the embedded database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-auth-private-'));
  const env = { DATA_DIR: dataDir, MASTER_KEY: TEST_MASTER_KEY };
  let running: RunningService | undefined;

  beforeAll(async () => {
    chmodSync(dataDir, 0o755); // as a folder made by hand would be
    running = await startServiceProcess(env);
  }, 90_000);
  afterAll(async () => {
    await ensureStopped(running);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('makes DATA_DIR private to its user (0700)', () => {
    expect(modeOf(dataDir).toString(8)).toBe('700');
  });

  it('serves the database on a unix socket inside DATA_DIR, and names no TCP port', () => {
    const owner = JSON.parse(readFileSync(join(dataDir, 'embedded-postgres.json'), 'utf8'));
    expect(owner).toEqual({ pid: running!.process.pid, socketDir: dataDir });
    expect(lstatSync(join(dataDir, '.s.PGSQL.5432')).isSocket()).toBe(true);
    expect(modeOf(join(dataDir, 'embedded-postgres.json')).toString(8)).toBe('600');
  });

  it('lets the CLI reach it through that socket while the service runs', async () => {
    const created = await runCli(['app', 'create', '--name', 'beside-the-service'], env);
    expect(created.code).toBe(0);
    const listed = await runCli(['app', 'list'], env);
    expect(listed.json.map((app: { app_id: string }) => app.app_id)).toContain(created.json.app_id);
  });

  it('seeds the demo by default here (the local default), its secrets in new 0600 files', () => {
    expect(running!.output()).toMatch(/Created the demo app \w+/);
    for (const file of ['demo-login.json', 'demo-admin-token']) expect(modeOf(join(dataDir, file)).toString(8)).toBe('600');
  });

  it('removes the socket when it stops', async () => {
    expect(await running!.stop()).toBe(0);
    expect(existsSync(join(dataDir, '.s.PGSQL.5432'))).toBe(false);
    expect(existsSync(join(dataDir, 'embedded-postgres.json'))).toBe(false);
  });
});

describe('the embedded database under NODE_ENV=production', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-auth-prod-'));
  let running: RunningService | undefined;
  afterAll(async () => {
    await ensureStopped(running);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is refused without DATABASE_URL, before anything is written', async () => {
    const start = startServiceProcess({ NODE_ENV: 'production', DATA_DIR: dataDir, MASTER_KEY: TEST_MASTER_KEY });
    await expect(start).rejects.toThrow(/exited with 1 before listening[\s\S]*DATABASE_URL is required when NODE_ENV=production .*ALLOW_EMBEDDED_DB=true/);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('is used when ALLOW_EMBEDDED_DB=true says it is meant, and no demo is seeded', async () => {
    running = await startServiceProcess({ NODE_ENV: 'production', ALLOW_EMBEDDED_DB: 'true', DATA_DIR: dataDir, MASTER_KEY: TEST_MASTER_KEY });
    expect(running.output()).not.toMatch(/Created the demo app/);
    expect(existsSync(join(dataDir, 'demo-admin-token'))).toBe(false);
    expect((await runCli(['app', 'list'], { DATA_DIR: dataDir, MASTER_KEY: TEST_MASTER_KEY })).json).toEqual([]);
  });
});

describe('the demo seed and a link planted in DATA_DIR', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-auth-planted-'));
  const outside = mkdtempSync(join(tmpdir(), 'im-auth-outside-'));
  const target = join(outside, 'collected');
  let running: RunningService | undefined;
  afterAll(async () => {
    await ensureStopped(running);
    for (const dir of [dataDir, outside]) rmSync(dir, { recursive: true, force: true });
  });

  it('writes nothing through the link and seeds nothing, saying why', async () => {
    writeFileSync(target, 'untouched');
    symlinkSync(target, join(dataDir, 'demo-admin-token'));
    running = await startServiceProcess({ DATA_DIR: dataDir, MASTER_KEY: TEST_MASTER_KEY });
    expect(running.output()).toMatch(/Not seeding the demo app: cannot create .*demo-admin-token \(EEXIST\)/);
    expect(readFileSync(target, 'utf8')).toBe('untouched');
    expect(existsSync(join(dataDir, 'demo-login.json'))).toBe(false);
    expect((await runCli(['app', 'list'], { DATA_DIR: dataDir, MASTER_KEY: TEST_MASTER_KEY })).json).toEqual([]);
  });
});
