/**
 * Users imported from another system with bcrypt hashes: they log in with their old password, the
 * first successful login re-hashes it to today's argon2id, and a wrong password changes nothing.
 * Imported through UsersService and through the CLI's `user import`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash as argon2Hash } from '@node-rs/argon2';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { TestService, TEST_MASTER_KEY, expectError, type TestApp } from '../support/test-service';
import { runCli } from '../support/processes';
import { UsersService } from '../../apps/auth/src/users/users.service';
import { UserEntity } from '../../apps/auth/src/users/user.entity';

const PASSWORD = 'correct horse battery';
const CURRENT_ARGON2ID = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/;

describe('users imported with bcrypt hashes', () => {
  let service: TestService;
  let tenant: TestApp;
  let bcrypt: string;

  beforeAll(async () => {
    service = await TestService.start();
    tenant = await service.createApp({ defaultRegion: 'CN' });
    bcrypt = await bcryptHash(PASSWORD, 10);
  });
  afterAll(() => service.close());

  const importUser = (input: Parameters<UsersService['importUser']>[1]) => service.nest.get(UsersService).importUser(tenant.app, input);
  const storedHash = async (userId: number) => (await service.dataSource.getRepository(UserEntity).findOneByOrFail({ id: userId })).passwordHash;
  const login = (body: unknown) => service.post('/token/user', { appId: tenant.app.id, body });

  it('logs a bcrypt user in, re-hashes the password to argon2id, and logs in again on the new hash', async () => {
    const user = await importUser({ username: 'Imported_1', email: 'Imported@Example.com', passwordHash: bcrypt });
    expect(user.username).toBe('Imported_1');
    expect(user.email).toBe('imported@example.com');
    expect(await storedHash(user.id)).toBe(bcrypt);

    const first = await login({ name: 'imported_1', password: PASSWORD });
    expect(first.status).toBe(200);
    expect(first.body.code).toBe(200);
    expect(first.body.data.user_id).toBe(user.id);
    const rehashed = await storedHash(user.id);
    expect(rehashed).toMatch(CURRENT_ARGON2ID);

    const second = await login({ name: 'imported_1', password: PASSWORD });
    expect(second.body.code).toBe(200);
    expect(second.body.data.user_id).toBe(user.id);
    expect(await storedHash(user.id)).toBe(rehashed); // current already: not re-hashed again
  });

  it('answers a wrong password for a bcrypt user with 10101 and leaves the hash as it was', async () => {
    const user = await importUser({ username: 'imported_2', passwordHash: bcrypt });
    expectError(await login({ name: 'imported_2', password: 'correct horse battery?' }), 401, 10101);
    expect(await storedHash(user.id)).toBe(bcrypt);

    expect((await login({ name: 'imported_2', password: PASSWORD })).body.code).toBe(200);
    expect(await storedHash(user.id)).toMatch(CURRENT_ARGON2ID);
  });

  it('logs in users imported with the $2a$ and $2y$ spellings and with an argon2id hash of other parameters', async () => {
    const olderArgon2 = await argon2Hash(PASSWORD, { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    const argon2 = await importUser({ username: 'imported_argon', passwordHash: olderArgon2 });
    const spellings = await Promise.all(
      ['$2a$', '$2y$'].map((prefix, index) => importUser({ mobile: `+86138001380${10 + index}`, passwordHash: prefix + bcrypt.slice(4) })),
    );
    for (const user of spellings) {
      const reply = await service.post('/token/id', { appId: tenant.app.id, body: { user_id: user.id, password: PASSWORD } });
      expect(reply.body.code).toBe(200);
      expect(await storedHash(user.id)).toMatch(CURRENT_ARGON2ID);
    }
    expect((await login({ name: 'imported_argon', password: PASSWORD })).body.code).toBe(200);
    expect(await storedHash(argon2.id)).toMatch(CURRENT_ARGON2ID);
  });

  it('validates identifiers exactly as registration does', async () => {
    await expect(importUser({ username: '12345', passwordHash: bcrypt })).rejects.toMatchObject({ errorName: 'BAD_PARAMETER', message: 'username must not be all digits' });
    await expect(importUser({ mobile: 'not a phone', passwordHash: bcrypt })).rejects.toMatchObject({ errorName: 'BAD_PARAMETER' });
    await expect(importUser({ email: 'nobody', passwordHash: bcrypt })).rejects.toMatchObject({ errorName: 'BAD_PARAMETER' });
    await expect(importUser({ passwordHash: bcrypt })).rejects.toMatchObject({ errorName: 'BAD_PARAMETER', message: 'username, mobile or email is required' });
    await service.createUser(tenant.app, { username: 'taken_name' });
    await expect(importUser({ username: 'TAKEN_name', passwordHash: bcrypt })).rejects.toMatchObject({ errorName: 'USER_EXISTS', message: 'username is already taken' });
  });

  it('refuses a hash that is neither a whole bcrypt hash nor an argon2id PHC string', async () => {
    const refused = [PASSWORD, bcrypt.slice(0, 59), `$2x$${bcrypt.slice(4)}`, '$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g', ''];
    for (const passwordHash of refused) {
      await expect(importUser({ username: 'bad_hash', passwordHash })).rejects.toMatchObject({ errorName: 'BAD_PARAMETER', message: expect.stringMatching(/password_hash/) });
    }
    expect(await service.dataSource.getRepository(UserEntity).countBy({ appId: tenant.app.id, usernameKey: 'bad_hash' })).toBe(0);
  });
});

describe('npm run cli -- user import', () => {
  let service: TestService;
  const dir = mkdtempSync(join(tmpdir(), 'im-auth-import-'));
  const env = () => ({ DATABASE_URL: process.env.TEST_DATABASE_URL, MASTER_KEY: TEST_MASTER_KEY, DATA_DIR: mkdtempSync(join(tmpdir(), 'im-auth-cli-')) });

  beforeAll(async () => {
    service = await TestService.start();
  });
  afterAll(() => service.close());

  it('imports one user a line, reports each refused line by number, and the imported users log in', async () => {
    const tenant = await service.createApp({ defaultRegion: 'CN' });
    await service.createUser(tenant.app, { username: 'already_here' });
    const bcrypt = await bcryptHash(PASSWORD, 10);
    const file = join(dir, 'users.jsonl');
    const lines = [
      JSON.stringify({ username: 'cli_import_1', password_hash: bcrypt }),
      JSON.stringify({ mobile: '13800138099', email: null, password_hash: bcrypt }),
      '',
      JSON.stringify({ username: 'already_here', password_hash: bcrypt }),
      '{"username": "broken"',
      JSON.stringify({ username: 'no_hash' }),
      JSON.stringify({ username: 'weak_hash', password_hash: 'plain text' }),
      JSON.stringify({ username: 'extra', password: PASSWORD, password_hash: bcrypt }),
      JSON.stringify({ email: 'imported@example.com', password_hash: bcrypt }),
      '',
    ];
    writeFileSync(file, `\uFEFF${lines.join('\n')}`); // with a byte-order mark, as some exporters write

    const result = await runCli(['user', 'import', '--app', tenant.app.id, '--file', file], env());
    expect(result.code).toBe(0);
    expect(result.json).toEqual({
      imported: 3,
      failed: [
        { line: 4, reason: 'username is already taken' },
        { line: 5, reason: 'not valid JSON' },
        { line: 6, reason: 'password_hash is required' },
        { line: 7, reason: expect.stringMatching(/^password_hash must be a bcrypt/) },
        { line: 8, reason: 'unknown field: password' },
      ],
    });

    for (const body of [{ login_name: 'cli_import_1' }, { login_name: '+8613800138099' }, { login_name: 'Imported@Example.com' }]) {
      const reply = await service.post('/token/login', { appId: tenant.app.id, body: { ...body, password: PASSWORD } });
      expect(reply.body.code).toBe(200);
    }
  });

  it('explains a missing file or app on stderr and exits non-zero', async () => {
    const tenant = await service.createApp();
    const missingFile = await runCli(['user', 'import', '--app', tenant.app.id, '--file', join(dir, 'nope.jsonl')], env());
    expect(missingFile.code).toBe(2);
    expect(missingFile.stderr).toMatch(/Cannot read .*nope\.jsonl/);
    const missingApp = await runCli(['user', 'import', '--app', 'nope', '--file', join(dir, 'nope.jsonl')], env());
    expect(missingApp.code).toBe(2);
    expect(missingApp.stderr).toMatch(/No app nope/);
    const noFlag = await runCli(['user', 'import', '--app', tenant.app.id], env());
    expect(noFlag.code).toBe(2);
    expect(noFlag.stderr).toMatch(/--file is required/);
  });

  it('lists the command in its usage text', async () => {
    const help = await runCli(['help'], env());
    expect(help.code).toBe(0);
    expect(help.stderr).toMatch(/user import --app APP_ID --file users\.jsonl/);
  });
});
