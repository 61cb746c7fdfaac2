/**
 * The file store's pair (`store_token`, `access_key_secret`) is under a key of each app's own: a
 * file service given its app's key (`cli app file-key`) accepts its app's pairs and refuses every
 * other app's. The file service below makes exactly the check docs/tokens.md describes, with keys
 * derived here from FILE_STORE_SECRET as documented, not by the service's code.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verify, type JwtPayload } from 'jsonwebtoken';
import { TestService, TEST_MASTER_KEY, decodeJwt, type TestApp } from '../support/test-service';
import { runCli } from '../support/processes';

const PASSWORD = 'correct horse battery';
const FILE_STORE_SECRET = randomBytes(32);

/** docs/tokens.md: app_file_key = HMAC-SHA256(file-store secret, "app:" + app_id). */
const appFileKey = (appId: string) => createHmac('sha256', FILE_STORE_SECRET).update(`app:${appId}`).digest();

/** The check docs/tokens.md asks of the file service of `appId`, which holds that app's key only. */
function fileServiceAccepts(appId: string, key: Buffer, pair: { store_token: string; access_key_secret: string }): boolean {
  let claims: JwtPayload;
  try {
    const storeTokenKey = createHmac('sha256', key).update('store_token').digest();
    claims = verify(pair.store_token, storeTokenKey, { algorithms: ['HS256'], audience: 'file-store' }) as JwtPayload;
  } catch {
    return false;
  }
  if (claims.scope !== 'file' || claims.app_id !== appId || typeof claims.jti !== 'string') return false;
  const expected = createHmac('sha256', key).update(claims.jti).digest();
  const given = Buffer.from(pair.access_key_secret, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('store tokens, one key per app', () => {
  let service: TestService;
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    service = await TestService.start({ FILE_STORE_SECRET: FILE_STORE_SECRET.toString('hex') });
    [first, second] = [await service.createApp(), await service.createApp()];
    for (const { app } of [first, second]) await service.createUser(app, { username: 'filer', password: PASSWORD });
  });
  afterAll(() => service.close());

  const pairOf = async (tenant: TestApp) => {
    const reply = await service.post('/token/user', { appId: tenant.app.id, body: { name: 'filer', password: PASSWORD } });
    expect(reply.body.code).toBe(200);
    return reply.body.data as { store_token: string; access_key_secret: string };
  };

  it("names its app and user, is scoped to the file store, and lives STORE_TOKEN_TTL_SECONDS", async () => {
    const pair = await pairOf(first);
    const { header, claims } = decodeJwt(pair.store_token);
    expect(header.alg).toBe('HS256');
    expect(claims).toMatchObject({ iss: 'im-auth', scope: 'file', aud: 'file-store', app_id: first.app.id });
    expect(typeof claims.sub).toBe('string');
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
  });

  it("passes its own app's file service", async () => {
    expect(fileServiceAccepts(first.app.id, appFileKey(first.app.id), await pairOf(first))).toBe(true);
    expect(fileServiceAccepts(second.app.id, appFileKey(second.app.id), await pairOf(second))).toBe(true);
  });

  it("fails another app's file service, whose key is not the one it was signed with", async () => {
    const pair = await pairOf(first);
    expect(fileServiceAccepts(second.app.id, appFileKey(second.app.id), pair)).toBe(false);
    // Nor does the shared secret itself, or the key of the single-key scheme, sign it.
    expect(() => verify(pair.store_token, FILE_STORE_SECRET, { algorithms: ['HS256'] })).toThrow(/invalid signature/);
    const sharedKey = createHmac('sha256', FILE_STORE_SECRET).update('store_token').digest();
    expect(() => verify(pair.store_token, sharedKey, { algorithms: ['HS256'] })).toThrow(/invalid signature/);
  });

  it("refuses an access_key_secret that belongs to another pair", async () => {
    const [one, other] = [await pairOf(first), await pairOf(first)];
    const key = appFileKey(first.app.id);
    expect(fileServiceAccepts(first.app.id, key, { store_token: one.store_token, access_key_secret: other.access_key_secret })).toBe(false);
  });

  it('gives the operator the key of one app with `cli app file-key`', async () => {
    const env = {
      DATABASE_URL: process.env.TEST_DATABASE_URL,
      FILE_STORE_SECRET: FILE_STORE_SECRET.toString('hex'),
      MASTER_KEY: TEST_MASTER_KEY,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'im-auth-file-key-')),
    };
    const printed = await runCli(['app', 'file-key', '--app', first.app.id], env);
    expect({ code: printed.code, stderr: printed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(printed.json).toEqual({ app_id: first.app.id, file_key: appFileKey(first.app.id).toString('hex') });
  });
});
