/**
 * libs/auth-client, as another NestJS service uses it, against the real auth service: local
 * verification of access tokens, revocations followed within 5 seconds, new signing keys
 * picked up from the JWKS. Then `verifySync` against `verify` on tokens made here, signed with
 * keys a fake JWKS publishes: the same verdict for every check, and a key not loaded yet refused
 * by the one and fetched by the other.
 */
import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  AuthClient,
  AuthClientGuard,
  AuthClientModule,
  AuthPrincipal,
  TokenRejected,
  TokenVerifier,
  UnknownSigningKey,
  type VerifiedPrincipal,
} from '../../libs/auth-client/src';
import { TestService, decodeJwt, type TestApp } from '../support/test-service';
import { b64, craftJwt, respelledSignature } from '../support/crafted-jwt';
import { SessionRevoker } from '../../apps/auth/src/sessions/session-revoker';
import { SigningKeysService } from '../../apps/auth/src/signing-keys/signing-keys.service';
import { AdminTokensService } from '../../apps/auth/src/admin-tokens/admin-tokens.service';
import type { UserEntity } from '../../apps/auth/src/users/user.entity';

const PASSWORD = 'correct horse battery';

@Controller()
class ProfileController {
  @Get('me')
  @UseGuards(AuthClientGuard)
  me(@AuthPrincipal() principal: VerifiedPrincipal): VerifiedPrincipal {
    return principal;
  }
}

describe('libs/auth-client in another service', () => {
  let auth: TestService;
  let downstream: INestApplication;
  let downstreamUrl: string;
  let tenant: TestApp;
  let user: UserEntity;

  beforeAll(async () => {
    auth = await TestService.start();
    tenant = await auth.createApp();
    user = await auth.createUser(tenant.app, { username: 'downstream_user' });
    const verifierToken = (await auth.nest.get(AdminTokensService).create(tenant.app.id, 'downstream', 'verifier')).token;

    @Module({
      imports: [
        AuthClientModule.forRoot({ baseUrl: auth.baseUrl, apps: [{ appId: tenant.app.id, token: verifierToken }], revocationPollMs: 500, jwksMinRefetchMs: 0 }),
      ],
      controllers: [ProfileController],
    })
    class DownstreamModule {}
    downstream = await NestFactory.create(DownstreamModule, new FastifyAdapter(), { logger: false });
    await downstream.listen(0, '127.0.0.1');
    downstreamUrl = `http://127.0.0.1:${(downstream.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await downstream.close();
    await auth.close();
  });

  const loginReply = async () => {
    const reply = await auth.post('/token/user', { appId: tenant.app.id, body: { name: 'downstream_user', password: PASSWORD, device_guid: 'dev-1' } });
    expect(reply.body.code).toBe(200);
    return reply.body.data as { token: string; store_token: string };
  };
  const login = async () => (await loginReply()).token;
  const callMe = async (token: string | undefined, appId = tenant.app.id) => {
    const headers: Record<string, string> = { app_id: appId };
    if (token !== undefined) headers['access-token'] = token;
    const response = await fetch(`${downstreamUrl}/me`, { headers });
    return { status: response.status, body: (await response.json()) as any };
  };

  it('hands the verified principal to the handler', async () => {
    const reply = await callMe(await login());
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ userId: user.id, appId: tenant.app.id, deviceSn: 1 });
  });

  it('refuses a missing token with 10003 and an unusable one with 10008, in the envelope', async () => {
    expect(await callMe(undefined)).toEqual({ status: 401, body: { code: 10003, message: expect.any(String), data: null } });
    expect(await callMe('garbage')).toEqual({ status: 401, body: { code: 10008, message: 'access-token is malformed', data: null } });
    const token = await login();
    expect((await callMe(token, 'another-app')).body).toMatchObject({ code: 10008, message: 'access-token was issued for another app' });
    const tampered = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await callMe(tampered)).body.code).toBe(10008);
  });

  it("refuses a token of the service's own key that has no exp, or an exp that never comes, with 10008", async () => {
    const { header, claims } = decodeJwt(await login());
    const active = auth.nest.get(SigningKeysService).activeKey();
    // A live session's claims under the real key: only exp makes them unacceptable.
    const signed = (payload: unknown) => craftJwt({ ...header, kid: active.kid }, payload, active.privateKey);
    const { exp: _exp, ...noExp } = claims;
    expect((await callMe(signed(claims))).status).toBe(200);
    for (const eternal of [signed(noExp), signed(`${JSON.stringify(noExp).slice(0, -1)},"exp":1e999}`)]) {
      expect(await callMe(eternal)).toEqual({ status: 401, body: { code: 10008, message: 'access-token has expired', data: null } });
    }
  });

  it('follows a revocation within 5 seconds', async () => {
    const token = await login();
    expect((await callMe(token)).status).toBe(200);
    await auth.nest.get(SessionRevoker).revoke({ appId: tenant.app.id, jti: decodeJwt(token).claims.jti as string });
    const started = Date.now();
    let reply = await callMe(token);
    while (reply.status === 200 && Date.now() - started < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      reply = await callMe(token);
    }
    expect(reply.body).toMatchObject({ code: 10008, message: 'access-token has been revoked' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('accepts tokens of a new signing key, and still those of the old one', async () => {
    const verifier = downstream.get(AuthClient).verifier;
    const before = await login();
    await auth.nest.get(SigningKeysService).rotate();
    const after = await login();
    expect(decodeJwt(after).header.kid).not.toBe(decodeJwt(before).header.kid);
    // Not loaded yet: the synchronous path cannot decide, the guard falls back to fetching the JWKS.
    expect(() => verifier.verifySync(after, tenant.app.id)).toThrow(UnknownSigningKey);
    expect((await callMe(after)).status).toBe(200);
    expect(verifier.verifySync(after, tenant.app.id).userId).toBe(user.id);
    expect((await callMe(before)).status).toBe(200);
  });

  it('verifySync gives the verdict verify gives on real tokens', async () => {
    const verifier = downstream.get(AuthClient).verifier;
    const { token, store_token: storeToken } = await loginReply();
    const revoked = await login();
    await auth.nest.get(SessionRevoker).revoke({ appId: tenant.app.id, jti: decodeJwt(revoked).claims.jti as string });
    await verifier.syncRevocations();
    const cases: Array<[string, string, string | RegExp | undefined]> = [
      [token, tenant.app.id, undefined],
      [token, 'another-app', 'access-token was issued for another app'],
      // Refused by its header (HS256) or, were it RS256, by its scope.
      [storeToken, tenant.app.id, /^access-token is not an (RS256 token with a kid|access token)$/],
      [revoked, tenant.app.id, 'access-token has been revoked'],
      [token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA'), tenant.app.id, 'access-token signature is invalid'],
      [`${token}.`, tenant.app.id, 'access-token is malformed'],
      ['garbage', tenant.app.id, 'access-token is malformed'],
    ];
    for (const [candidate, appId, reason] of cases) {
      const sync = outcome(() => verifier.verifySync(candidate, appId));
      expect(await outcomeOf(verifier.verify(candidate, appId))).toEqual(sync);
      expect(sync).toEqual(
        reason === undefined
          ? { principal: expect.objectContaining({ userId: user.id, deviceSn: 1 }) }
          : { rejected: typeof reason === 'string' ? reason : expect.stringMatching(reason) },
      );
    }
  });

  it('verifies tens of thousands of tokens a second in-process', async () => {
    const token = await login();
    const verifier = downstream.get(AuthClient).verifier;
    await verifier.verify(token, tenant.app.id);
    const count = 5000;
    let started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) await verifier.verify(token, tenant.app.id);
    const perSecond = count / (Number(process.hrtime.bigint() - started) / 1e9);
    started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) verifier.verifySync(token, tenant.app.id);
    const syncPerSecond = count / (Number(process.hrtime.bigint() - started) / 1e9);
    console.log(`auth-client: ${Math.round(perSecond)} verifications/s with verify, ${Math.round(syncPerSecond)}/s with verifySync`);
    // A loose floor that holds on a busy CI machine; the benchmark measures the real figure.
    expect(perSecond).toBeGreaterThan(1000);
    expect(syncPerSecond).toBeGreaterThan(1000);
  });
});

describe('TokenVerifier: verifySync and verify on the same tokens', () => {
  const APP = 'app-of-the-tests';
  const CREDENTIALS = [{ appId: APP, token: 'adm_verifier-of-the-tests' }];
  const ISSUER = 'im-auth';
  const now = () => Math.floor(Date.now() / 1000);

  /** A JWKS served by a fake fetch: keys can be published during a test; fetches are counted. */
  class FakeAuthService {
    readonly published: Array<Record<string, unknown>> = [];
    jwksFetches = 0;
    readonly fetch = (async (url: string | URL | Request) => {
      const path = new URL(String(url)).pathname;
      if (path === '/.well-known/jwks.json') {
        this.jwksFetches++;
        return Response.json({ keys: this.published });
      }
      return Response.json({ code: 200, message: null, data: { cursor: 0, jtis: [], expires: [] } });
    }) as typeof fetch;

    publish(kid: string, key: KeyObject): void {
      this.published.push({ ...key.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' });
    }
  }

  const keyPair = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signing = keyPair();
  const otherKey = keyPair();
  /** A JWT with exactly this header and payload, RS256-signed with `key`. */
  const craft = (header: unknown, payload: unknown, key: KeyObject = signing.privateKey) => craftJwt(header, payload, key);
  const claims = (extra: Record<string, unknown> = {}) => ({ iss: ISSUER, sub: '2302128618880', app_id: APP, jti: randomUUID(), iat: now(), exp: now() + 3600, ...extra });
  const header = { alg: 'RS256', typ: 'JWT', kid: 'k1' };

  let service: FakeAuthService;
  let verifier: TokenVerifier;
  beforeEach(async () => {
    service = new FakeAuthService();
    service.publish('k1', signing.publicKey);
    verifier = new TokenVerifier({ baseUrl: 'http://auth.test', apps: CREDENTIALS, fetch: service.fetch, jwksMinRefetchMs: 60_000 });
    await verifier.start();
    verifier.stop();
  });

  it('accepts and refuses alike, with the same reason, whatever the token', async () => {
    const valid = craft(header, claims({ device_sn: 3, act: { sub: 'admin:someone' } }));
    const [headerPart, payloadPart, signaturePart] = valid.split('.');
    const cases: Array<[string, string, string | undefined]> = [
      ['valid, with device and actor', valid, undefined],
      ['valid, expired within the tolerance', craft(header, claims({ exp: now() - 2 })), undefined],
      ['valid, not before a moment ago', craft(header, claims({ nbf: now() - 1 })), undefined],
      ['valid, not before within the tolerance', craft(header, claims({ nbf: now() + 2 })), undefined],
      ['expired', craft(header, claims({ exp: now() - 60 })), 'access-token has expired'],
      ['no exp', craft(header, claims({ exp: undefined })), 'access-token has expired'],
      ['exp 1e999, which JSON reads as Infinity', craft(header, `${JSON.stringify(claims({ exp: undefined })).slice(0, -1)},"exp":1e999}`), 'access-token has expired'],
      ['exp null', craft(header, claims({ exp: null })), 'access-token has expired'],
      ['exp as a string', craft(header, claims({ exp: String(now() + 3600) })), 'access-token has expired'],
      ['not valid yet', craft(header, claims({ nbf: now() + 60 })), 'access-token is not valid yet'],
      ['nbf as a string', craft(header, claims({ nbf: String(now()) })), 'access-token is not valid yet'],
      ['another issuer', craft(header, claims({ iss: 'someone-else' })), 'access-token has another issuer'],
      ['a store token', craft(header, claims({ scope: 'file' })), 'access-token is not an access token'],
      ['another app', craft(header, claims({ app_id: 'other-app' })), 'access-token was issued for another app'],
      ['no jti', craft(header, claims({ jti: undefined })), 'access-token has been revoked'],
      ['sub not a number', craft(header, claims({ sub: 'root' })), 'access-token is malformed'],
      ['payload null', craft(header, null), 'access-token is malformed'],
      ['payload not JSON', craft(header, 'not json {'), 'access-token is malformed'],
      ['alg none', `${b64({ alg: 'none', kid: 'k1' })}.${payloadPart}.`, 'access-token is not an RS256 token with a kid'],
      ['HS256 header', craft({ alg: 'HS256', kid: 'k1' }, claims()), 'access-token is not an RS256 token with a kid'],
      ['no kid', craft({ alg: 'RS256' }, claims()), 'access-token is not an RS256 token with a kid'],
      ['header null', craft(null, claims()), 'access-token is not an RS256 token with a kid'],
      ['header not JSON', `${b64('{')}.${payloadPart}.${signaturePart}`, 'access-token is malformed'],
      ['signed by another key', craft(header, claims(), otherKey.privateKey), 'access-token signature is invalid'],
      ['payload swapped', `${headerPart}.${b64(claims({ sub: '1' }))}.${signaturePart}`, 'access-token signature is invalid'],
      ['signature cut', valid.slice(0, -10), 'access-token signature is invalid'],
      ['no signature', `${headerPart}.${payloadPart}.`, 'access-token signature is invalid'],
      // One spelling per token (RFC 7515): Node's decoder would skip the `!` and the padding, and read Ń as D.
      ['signature with padding', `${valid}=`, 'access-token is malformed'],
      ['a character outside base64url in the signature', `${headerPart}.${payloadPart}.${signaturePart.slice(0, 9)}!${signaturePart.slice(9)}`, 'access-token is malformed'],
      ['a character outside ASCII in the signature', `${valid.slice(0, -1)}\u0143`, 'access-token is malformed'],
      // The signature is checked before the claims are decoded: what it does not cover is never read.
      ['a character outside ASCII in the payload', `${headerPart}.${payloadPart.slice(0, -1)}\u0143.${signaturePart}`, 'access-token signature is invalid'],
      ['stray trailing bits in the signature', respelledSignature(valid), 'access-token is malformed'],
      ['header with padding', `${headerPart}=.${payloadPart}.${signaturePart}`, 'access-token is malformed'],
      ['two parts', `${headerPart}.${payloadPart}`, 'access-token is malformed'],
      ['four parts', `${valid}.x`, 'access-token is malformed'],
      ['empty header', `.${payloadPart}.${signaturePart}`, 'access-token is malformed'],
      ['empty payload', `${headerPart}..${signaturePart}`, 'access-token is malformed'],
      ['empty', '', 'access-token is malformed'],
    ];
    for (const [name, token, reason] of cases) {
      // Each case twice: the second time the header is the cached one.
      for (let round = 0; round < 2; round++) {
        const sync = outcome(() => verifier.verifySync(token, APP));
        expect({ name, verdict: await outcomeOf(verifier.verify(token, APP)) }).toEqual({ name, verdict: sync });
        expect({ name, verdict: sync }).toEqual({ name, verdict: reason === undefined ? { principal: expect.any(Object) } : { rejected: reason } });
      }
    }
    expect(verifier.verifySync(valid, APP)).toEqual({ userId: 2302128618880, appId: APP, jti: expect.any(String), expiresAt: expect.any(Number), deviceSn: 3, actor: 'admin:someone' });
    expect(Object.keys(verifier.verifySync(craft(header, claims()), APP)).sort()).toEqual(['appId', 'expiresAt', 'jti', 'userId']);
    expect(service.jwksFetches).toBe(1); // no case named an unknown key
  });

  it('refuses a revoked token and a token of an app outside appIds, both ways', async () => {
    const revokedJti = randomUUID();
    const limited = new TokenVerifier({
      baseUrl: 'http://auth.test',
      apps: [{ appId: 'only-this-app', token: 'adm_verifier-of-only-this-app' }],
      fetch: (async (url: string | URL | Request) =>
        String(url).includes('/token/revocations')
          ? Response.json({ code: 200, message: null, data: { cursor: 1, jtis: [revokedJti], expires: [now() + 3600] } })
          : service.fetch(url)) as typeof fetch,
    });
    await limited.start();
    limited.stop();
    const revoked = craft(header, claims({ jti: revokedJti, app_id: 'only-this-app' }));
    const otherApp = craft(header, claims());
    for (const [token, appId, reason] of [
      [revoked, 'only-this-app', 'access-token has been revoked'],
      [otherApp, APP, 'access-token was issued for another app'],
    ]) {
      expect(outcome(() => limited.verifySync(token, appId))).toEqual({ rejected: reason });
      expect(await outcomeOf(limited.verify(token, appId))).toEqual({ rejected: reason });
    }
  });

  it('falls back on a key not loaded yet: verifySync refuses it, verify fetches the JWKS and accepts', async () => {
    const rotated = keyPair();
    const token = craft({ ...header, kid: 'k2' }, claims(), rotated.privateKey);
    const fallingBack = new TokenVerifier({ baseUrl: 'http://auth.test', apps: CREDENTIALS, fetch: service.fetch, jwksMinRefetchMs: 200 });
    await fallingBack.start();
    fallingBack.stop();
    service.publish('k2', rotated.publicKey); // the auth service rotates

    let thrown: unknown;
    try {
      fallingBack.verifySync(token, APP);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UnknownSigningKey);
    expect(thrown).toBeInstanceOf(TokenRejected); // whoever does not fall back refuses the token
    expect(thrown).toMatchObject({ kid: 'k2', code: 10008, message: 'access-token is signed by an unknown key' });

    // Two requests at once with the new kid, once the refetch delay has passed: the second finds
    // the first one's fetch in flight (and the delay started again), waits for it, and is accepted too.
    await new Promise((resolve) => setTimeout(resolve, 250));
    const fetchesBefore = service.jwksFetches;
    const [first, second] = await Promise.all([outcomeOf(fallingBack.verify(token, APP)), outcomeOf(fallingBack.verify(token, APP))]);
    expect(first).toEqual({ principal: expect.objectContaining({ userId: 2302128618880 }) });
    expect(second).toEqual(first);
    expect(service.jwksFetches).toBe(fetchesBefore + 1);
    expect(outcome(() => fallingBack.verifySync(token, APP))).toEqual(first);
  });

  it('refuses a kid the JWKS does not have, fetching at most once per jwksMinRefetchMs; made-up kids do not disturb real ones', async () => {
    const unknown = (kid: string) => craft({ ...header, kid }, claims());
    for (let i = 0; i < 200; i++) {
      expect(outcome(() => verifier.verifySync(unknown(`made-up-${i}`), APP))).toEqual({ rejected: 'access-token is signed by an unknown key' });
      expect(await outcomeOf(verifier.verify(unknown(`made-up-${i}`), APP))).toEqual({ rejected: 'access-token is signed by an unknown key' });
    }
    expect(service.jwksFetches).toBe(1); // the start's fetch, within jwksMinRefetchMs (a minute) of every later call
    expect(outcome(() => verifier.verifySync(craft(header, claims()), APP))).toEqual({ principal: expect.any(Object) });
  });

  it('verifies each token against its own key when tokens of two keys alternate', async () => {
    const second = keyPair();
    service.publish('k2', second.publicKey);
    const twoKeys = new TokenVerifier({ baseUrl: 'http://auth.test', apps: CREDENTIALS, fetch: service.fetch });
    await twoKeys.start();
    twoKeys.stop();
    const one = craft(header, claims({ sub: '1' }));
    const two = craft({ ...header, kid: 'k2' }, claims({ sub: '2' }), second.privateKey);
    const twoSignedByOne = craft({ ...header, kid: 'k2' }, claims({ sub: '3' }));
    for (let i = 0; i < 3; i++) {
      expect(twoKeys.verifySync(one, APP).userId).toBe(1);
      expect(twoKeys.verifySync(two, APP).userId).toBe(2);
      expect(outcome(() => twoKeys.verifySync(twoSignedByOne, APP))).toEqual({ rejected: 'access-token signature is invalid' });
    }
  });

  it('decodes every length of base64url as Node does', () => {
    // The signature and claims go through the verifier's own decoder: every tail length, every byte value.
    for (let length = 0; length < 70; length++) {
      const bytes = createHash('sha512').update(String(length)).digest();
      const payload = { ...claims(), pad: bytes.subarray(0, length % 64).toString('latin1') };
      const token = craft(header, payload);
      expect(verifier.verifySync(token, APP).jti).toBe(payload.jti);
    }
  });
});

type Outcome = { principal: VerifiedPrincipal } | { rejected: string };

function outcome(run: () => VerifiedPrincipal): Outcome {
  try {
    return { principal: run() };
  } catch (error) {
    if (error instanceof TokenRejected) return { rejected: error.message };
    throw error;
  }
}

async function outcomeOf(verdict: Promise<VerifiedPrincipal>): Promise<Outcome> {
  try {
    return { principal: await verdict };
  } catch (error) {
    if (error instanceof TokenRejected) return { rejected: error.message };
    throw error;
  }
}
