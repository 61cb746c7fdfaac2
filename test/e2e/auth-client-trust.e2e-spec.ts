/**
 * What makes libs/auth-client safe to trust on every request of another service, against the
 * real auth service, running and stopped (a child process, started again on the same port):
 * - it fails closed: past `maxRevocationStalenessMs` without reading the revocation log, tokens
 *   are refused with a message that says why (or introspected, when configured), and the health
 *   indicator says so;
 * - it forgets keys the service stops publishing, at its next scheduled JWKS fetch, and keeps the
 *   keys it has while the service cannot be reached;
 * - its cache of verified tokens never outlives a revocation, a token's expiry or its key.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import {
  AuthClient,
  AuthClientGuard,
  AuthClientHealthIndicator,
  AuthClientModule,
  AuthPrincipal,
  TokenRejected,
  TokenVerifier,
  type AuthClientOptions,
  type VerifiedPrincipal,
} from '../../libs/auth-client/src';
import { TestService, TEST_MASTER_KEY, decodeJwt, type TestApp } from '../support/test-service';
import { eventually } from '../support/eventually';
import { craftJwt } from '../support/crafted-jwt';
import { freePort, startServiceProcess, type RunningService } from '../support/processes';
import { SessionRevoker } from '../../apps/auth/src/sessions/session-revoker';
import { SigningKeysService } from '../../apps/auth/src/signing-keys/signing-keys.service';
import { AdminTokensService } from '../../apps/auth/src/admin-tokens/admin-tokens.service';

const PASSWORD = 'correct horse battery';

/** The verifier's verdict: the principal, or the refusal's class and message. */
function verdict(run: () => VerifiedPrincipal): { principal: VerifiedPrincipal } | { refused: string; message: string } {
  try {
    return { principal: run() };
  } catch (error) {
    if (error instanceof TokenRejected) return { refused: error.name, message: error.message };
    throw error;
  }
}

async function asyncVerdict(run: () => Promise<VerifiedPrincipal>) {
  try {
    return { principal: await run() };
  } catch (error) {
    if (error instanceof TokenRejected) return { refused: error.name, message: error.message };
    throw error;
  }
}

describe('libs/auth-client against the running auth service', () => {
  let auth: TestService;
  let tenant: TestApp;
  let verifierToken: string;
  const verifiers: TokenVerifier[] = [];

  beforeAll(async () => {
    auth = await TestService.start();
    tenant = await auth.createApp();
    await auth.createUser(tenant.app, { username: 'trusting_user' });
    verifierToken = (await auth.nest.get(AdminTokensService).create(tenant.app.id, 'a verifying service', 'verifier')).token;
  });
  afterAll(async () => {
    for (const verifier of verifiers) verifier.stop();
    await auth.close();
  });

  const startVerifier = async (options: Partial<AuthClientOptions> = {}): Promise<TokenVerifier> => {
    const verifier = new TokenVerifier({ baseUrl: auth.baseUrl, apps: [{ appId: tenant.app.id, token: verifierToken }], ...options });
    verifiers.push(verifier);
    await verifier.start();
    return verifier;
  };
  const login = async (): Promise<string> => {
    const reply = await auth.post('/token/user', { appId: tenant.app.id, body: { name: 'trusting_user', password: PASSWORD } });
    expect(reply.body.code).toBe(200);
    return reply.body.data.token as string;
  };
  const revoke = (token: string) => auth.nest.get(SessionRevoker).revoke({ appId: tenant.app.id, jti: decodeJwt(token).claims.jti as string });

  it('refuses a revoked token within the poll interval, whether or not it was cached', async () => {
    const pollMs = 300;
    const verifier = await startVerifier({ revocationPollMs: pollMs });
    const [cached, fresh] = [await login(), await login()];
    const first = verifier.verifySync(cached, tenant.app.id);
    // Seen before: the cache answers, with the very principal it answered the first time.
    expect(verifier.verifySync(cached, tenant.app.id)).toBe(first);

    await revoke(cached);
    await revoke(fresh);
    const took = await eventually(5000, () => {
      for (const token of [cached, fresh]) {
        expect(verdict(() => verifier.verifySync(token, tenant.app.id))).toEqual({ refused: 'TokenRejected', message: 'access-token has been revoked' });
      }
    });
    // One poll interval, plus the poll's own round trip and this loop's 50 ms.
    expect(took).toBeLessThan(pollMs + 1000);
  });

  it('forgets a key the service stops publishing at its next scheduled JWKS fetch, cached tokens included', async () => {
    // A key of this test's own, retired two days ago (still published: tokens live 7 days), so
    // revoking it touches no session of any other test: none was issued around its time.
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kid = `trust-${randomUUID().slice(0, 8)}`;
    await auth.dataSource.query(
      `INSERT INTO signing_key (kid, algorithm, public_key, private_key_sealed, created_at, retired_at)
       VALUES ($1, 'RS256', $2, 'v1.x.x.x', now() - interval '3 days', now() - interval '2 days')`,
      [kid, publicKey.export({ type: 'spki', format: 'pem' })],
    );
    await auth.nest.get(SigningKeysService).refresh();
    const { claims } = decodeJwt(await login());
    const token = craftJwt({ alg: 'RS256', typ: 'JWT', kid }, { ...claims, jti: randomUUID() }, privateKey);

    const refreshMs = 500;
    const verifier = await startVerifier({ jwksRefreshMs: refreshMs });
    const accepted = verifier.verifySync(token, tenant.app.id);
    expect(accepted.userId).toBe(Number(claims.sub));

    expect(await auth.nest.get(SigningKeysService).revoke(kid)).toMatchObject({ kid, replaced_by: null });
    const took = await eventually(5000, async () => {
      expect(verdict(() => verifier.verifySync(token, tenant.app.id))).toEqual({ refused: 'UnknownSigningKey', message: 'access-token is signed by an unknown key' });
    });
    expect(took).toBeLessThan(refreshMs + 1500);
    // Fetching the JWKS again does not bring it back.
    expect(await asyncVerdict(() => verifier.verify(token, tenant.app.id))).toMatchObject({ refused: 'UnknownSigningKey' });
    // The service's own tokens are unaffected.
    expect(verifier.verifySync(await login(), tenant.app.id).appId).toBe(tenant.app.id);
  });

  it("introspects instead, when so configured, while the revocation log cannot be read; its health is 'degraded'", async () => {
    // The revocation log's route fails (as behind a proxy that lost it); the rest of the service answers.
    const fetchWithoutLog = (async (url: string | URL | Request, init?: RequestInit) =>
      String(url).includes('/token/revocations') ? new Response('bad gateway', { status: 502 }) : fetch(url, init)) as typeof fetch;
    const introspecting = await startVerifier({ fetch: fetchWithoutLog, maxRevocationStalenessMs: 0, whenRevocationsStale: 'introspect' });
    const refusing = await startVerifier({ fetch: fetchWithoutLog, maxRevocationStalenessMs: 0 });
    const [token, revoked] = [await login(), await login()];
    await revoke(revoked);

    const stale = verdict(() => refusing.verifySync(token, tenant.app.id));
    expect(stale).toEqual({ refused: 'RevocationsStale', message: expect.stringMatching(/revocation log has not been read yet/) });
    expect(await asyncVerdict(() => refusing.verify(token, tenant.app.id))).toEqual(stale);

    // verifySync cannot ask; verify does, and the service's answer decides.
    expect(verdict(() => introspecting.verifySync(token, tenant.app.id))).toMatchObject({ refused: 'RevocationsStale' });
    expect(await introspecting.verify(token, tenant.app.id)).toMatchObject({ userId: expect.any(Number), appId: tenant.app.id, jti: decodeJwt(token).claims.jti });
    expect(await asyncVerdict(() => introspecting.verify(revoked, tenant.app.id))).toEqual({
      refused: 'TokenRejected',
      message: 'access-token is not active, says introspection (the revocation log is stale)',
    });
    const indicator = new AuthClientHealthIndicator({ verifier: introspecting } as AuthClient, new HealthIndicatorService());
    expect(indicator.isHealthy()).toEqual({ 'auth-client': expect.objectContaining({ status: 'degraded', revocationLogAgeSeconds: null }) });
  });
});

@Controller()
class DownstreamController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly authClient: AuthClientHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.authClient.isHealthy()]);
  }

  @Get('me')
  @UseGuards(AuthClientGuard)
  me(@AuthPrincipal() principal: VerifiedPrincipal): VerifiedPrincipal {
    return principal;
  }
}

describe('libs/auth-client when the auth service stops', () => {
  let auth: TestService;
  let tenant: TestApp;
  let running: RunningService | undefined;
  let downstream: INestApplication;
  let downstreamUrl: string;
  let introspecting: TokenVerifier;
  const env: Record<string, string | undefined> = {
    DATABASE_URL: process.env.TEST_DATABASE_URL,
    MASTER_KEY: TEST_MASTER_KEY,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'im-auth-trust-')),
  };
  const maxRevocationStalenessMs = 3000;

  beforeAll(async () => {
    // Set-up only (the app, its user, a verifier token), on the database the child process serves.
    auth = await TestService.start();
    tenant = await auth.createApp();
    await auth.createUser(tenant.app, { username: 'stopped_user' });
    const verifierToken = (await auth.nest.get(AdminTokensService).create(tenant.app.id, 'a verifying service', 'verifier')).token;
    env.PORT = String(await freePort());
    running = await startServiceProcess(env);

    const options: AuthClientOptions = {
      baseUrl: running.baseUrl,
      apps: [{ appId: tenant.app.id, token: verifierToken }],
      revocationPollMs: 200,
      maxRevocationStalenessMs,
      requestTimeoutMs: 1000,
    };
    @Module({ imports: [AuthClientModule.forRoot(options), TerminusModule], controllers: [DownstreamController] })
    class DownstreamModule {}
    downstream = await NestFactory.create(DownstreamModule, new FastifyAdapter(), { logger: false, abortOnError: false });
    await downstream.listen(0, '127.0.0.1');
    downstreamUrl = `http://127.0.0.1:${(downstream.getHttpServer().address() as { port: number }).port}`;
    introspecting = new TokenVerifier({ ...options, whenRevocationsStale: 'introspect' });
    await introspecting.start();
  });
  afterAll(async () => {
    introspecting?.stop();
    await downstream?.close();
    await running?.stop();
    await auth.close();
  });

  const login = async (): Promise<string> => {
    const response = await fetch(`${running!.baseUrl}/token/user`, {
      method: 'POST',
      headers: { app_id: tenant.app.id, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'stopped_user', password: PASSWORD }),
    });
    const reply = (await response.json()) as { code: number; data: { token: string } };
    expect(reply.code).toBe(200);
    return reply.data.token;
  };
  const get = async (path: string, token?: string) => {
    const response = await fetch(`${downstreamUrl}${path}`, { headers: token ? { app_id: tenant.app.id, 'access-token': token } : {} });
    return { status: response.status, body: (await response.json()) as any };
  };

  it('keeps its keys, refuses every token once the revocation log is too old (and says so), and accepts them again when the service is back', async () => {
    const verifier = downstream.get(AuthClient).verifier;
    const [seen, unseen] = [await login(), await login()];
    expect((await get('/me', seen)).status).toBe(200);
    expect(await get('/health')).toEqual({ status: 200, body: expect.objectContaining({ status: 'ok', info: { 'auth-client': expect.objectContaining({ status: 'up' }) } }) });

    expect(await running!.stop()).toBe(0);
    const stoppedAt = Date.now();
    // Within the bound, a token never seen still verifies: a failed JWKS fetch keeps the keys it had.
    expect(verdict(() => verifier.verifySync(unseen, tenant.app.id))).toEqual({ principal: expect.objectContaining({ appId: tenant.app.id }) });

    // Past it, every token is refused, cached or not, with the reason.
    await eventually(maxRevocationStalenessMs + 3000, () => {
      for (const token of [seen, unseen]) {
        expect(verdict(() => verifier.verifySync(token, tenant.app.id))).toEqual({
          refused: 'RevocationsStale',
          message: expect.stringMatching(/revocation log was last read \d+ s ago \(more than 3 s is refused\)/),
        });
      }
    });
    expect(Date.now() - stoppedAt).toBeGreaterThan(maxRevocationStalenessMs - 1000);
    expect(await get('/me', seen)).toEqual({ status: 401, body: { code: 10008, message: expect.stringMatching(/revocation log was last read/), data: null } });
    const down = await get('/health');
    expect(down.status).toBe(503);
    expect(down.body.error['auth-client']).toMatchObject({ status: 'down', revocationLogAgeSeconds: expect.any(Number), maxRevocationStalenessSeconds: 3 });
    // Introspection, when configured, cannot vouch for it either: the service is not there to ask.
    // (That verifier polls on its own clock: its log goes stale a moment after the other's.)
    await eventually(1000, () => expect(introspecting.health().stale).toBe(true));
    expect(await asyncVerdict(() => introspecting.verify(seen, tenant.app.id))).toEqual({
      refused: 'TokenRejected',
      message: expect.stringMatching(/revocation log .* and introspection failed: POST \/token\/introspect failed/),
    });

    running = await startServiceProcess(env);
    await eventually(5000, () => expect(verdict(() => verifier.verifySync(seen, tenant.app.id))).toEqual({ principal: expect.anything() }));
    expect((await get('/me', unseen)).status).toBe(200);
    expect((await get('/health')).status).toBe(200);
  });
});

describe('libs/auth-client with a fake auth service', () => {
  const APP = 'app-of-the-tests';
  const now = () => Math.floor(Date.now() / 1000);
  const signing = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const header = { alg: 'RS256', typ: 'JWT', kid: 'k1' };
  const token = (extra: Record<string, unknown> = {}) =>
    craftJwt(header, { iss: 'im-auth', sub: '42', app_id: APP, jti: randomUUID(), exp: now() + 3600, ...extra }, signing.privateKey);
  const verifiers: TokenVerifier[] = [];
  afterEach(() => verifiers.splice(0).forEach((verifier) => verifier.stop()));

  /** Serves k1 in its JWKS (with `cacheControl`, if any), and an empty revocation log (or `logStatus`); notes when the JWKS is fetched. */
  const fakeService = (cacheControl?: string, logStatus = 200) => {
    const jwksFetchedAt: number[] = [];
    const fetch = (async (url: string | URL | Request) => {
      if (new URL(String(url)).pathname === '/.well-known/jwks.json') {
        jwksFetchedAt.push(Date.now());
        const jwk = { ...signing.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
        return Response.json({ keys: [jwk] }, cacheControl ? { headers: { 'cache-control': cacheControl } } : {});
      }
      return Response.json({ code: logStatus === 200 ? 200 : 20000, message: null, data: { cursor: 0, jtis: [], expires: [] } }, { status: logStatus });
    }) as typeof globalThis.fetch;
    return { fetch, jwksFetchedAt };
  };
  const startVerifier = async (fetch: typeof globalThis.fetch, options: Partial<AuthClientOptions> = {}) => {
    const verifier = new TokenVerifier({ baseUrl: 'http://auth.test', apps: [{ appId: APP, token: 'adm_verifier' }], fetch, ...options });
    verifiers.push(verifier);
    await verifier.start();
    return verifier;
  };

  it("fetches the JWKS again when its Cache-Control max-age is up, or after jwksRefreshMs if that comes first", async () => {
    const byMaxAge = fakeService('public, max-age=1');
    await startVerifier(byMaxAge.fetch, { jwksRefreshMs: 60_000 });
    const byCap = fakeService('public, max-age=300');
    await startVerifier(byCap.fetch, { jwksRefreshMs: 300 });
    await eventually(6000, () => {
      expect(byMaxAge.jwksFetchedAt.length).toBeGreaterThanOrEqual(3);
      expect(byCap.jwksFetchedAt.length).toBeGreaterThanOrEqual(3);
    });
    const gaps = (times: number[]) => times.slice(1).map((time, i) => time - times[i]);
    for (const gap of gaps(byMaxAge.jwksFetchedAt)) expect(gap).toBeGreaterThanOrEqual(950);
    for (const gap of gaps(byCap.jwksFetchedAt)) expect(gap).toBeGreaterThanOrEqual(280);
  });

  it('remembers at most verifiedTokenCacheSize tokens, the least recently used leaving first, none longer than it lives', async () => {
    const verifier = await startVerifier(fakeService().fetch, { verifiedTokenCacheSize: 2, clockToleranceSeconds: 0 });
    const [first, second, third] = [token(), token(), token()];
    const principalOf = (candidate: string) => verifier.verifySync(candidate, APP);
    const firstSeen = principalOf(first);
    const secondSeen = principalOf(second);
    expect(principalOf(first)).toBe(firstSeen); // a hit, and now the most recently used
    principalOf(third); // the cache is full: the second leaves
    expect(principalOf(first)).toBe(firstSeen);
    const secondAgain = principalOf(second);
    expect(secondAgain).not.toBe(secondSeen); // verified again, not remembered
    expect(secondAgain).toEqual(secondSeen);

    const shortLived = token({ exp: now() + 1 });
    const seen = principalOf(shortLived);
    expect(principalOf(shortLived)).toBe(seen);
    await eventually(3000, () => expect(verdict(() => principalOf(shortLived))).toEqual({ refused: 'TokenRejected', message: 'access-token has expired' }));
  });

  it('refuses the tokens of an app whose revocation log it has never read, and starts all the same', async () => {
    const verifier = await startVerifier(fakeService(undefined, 503).fetch);
    expect(verdict(() => verifier.verifySync(token(), APP))).toEqual({
      refused: 'RevocationsStale',
      message: "access-token cannot be checked for revocation: the auth service's revocation log has not been read yet (more than 30 s is refused)",
    });
    expect(verifier.health()).toMatchObject({ stale: true, revocationStalenessMs: Infinity, keys: 1 });
    expect(() => new TokenVerifier({ baseUrl: 'http://auth.test', apps: [] })).toThrow('AuthClientOptions.apps names no app: every token would be refused');
  });
});
