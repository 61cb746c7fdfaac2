/**
 * What every reply carries besides its body: helmet's security headers (with a CSP that still
 * lets Swagger UI at /docs load everything it uses), `Cache-Control: no-store` on token and user
 * replies, CORS only for configured origins, and X-Forwarded-For believed only from configured
 * proxies. A URL whose path cannot be percent-decoded is refused in the envelope, as any bad request.
 */
import { TestService, expectError, type Reply, type TestApp } from '../support/test-service';

const PASSWORD = 'correct horse battery';
const ALLOWED_ORIGIN = 'https://app.example';

/** Paths with a percent-escape that is cut short, not hex, or not UTF-8: no router can decode them. */
const UNDECODABLE_PATHS = [
  ['POST', '/token/%E0%A4%A'],
  ['POST', '/token/user%zz'],
  ['GET', '/%zz'],
  ['GET', '/docs/%zz'],
  ['GET', '/health/%FF'],
] as const;
const UNDECODABLE_PATH_ERROR = { code: 10002, message: 'Request path is not valid percent-encoding', data: null };

/** A Content-Security-Policy header as directive → sources. */
function parseCsp(header: string | null): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), sources);
  }
  return directives;
}

/** The sources in force for a fetch directive: its own, else default-src's (CSP's fallback). */
function sourcesFor(csp: Map<string, string[]>, directive: string): string[] {
  return csp.get(directive) ?? csp.get('default-src') ?? [];
}

function expectSecurityHeaders(reply: Reply): void {
  expect({
    'x-content-type-options': reply.headers.get('x-content-type-options'),
    'x-frame-options': reply.headers.get('x-frame-options'),
    'referrer-policy': reply.headers.get('referrer-policy'),
    'x-powered-by': reply.headers.get('x-powered-by'),
  }).toEqual({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN', 'referrer-policy': 'no-referrer', 'x-powered-by': null });
  expect(reply.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
  expect(parseCsp(reply.headers.get('content-security-policy')).get('default-src')).toEqual(["'self'"]);
}

function preflight(service: TestService, origin: string): Promise<Reply> {
  return service.call('OPTIONS', '/token/user', {
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'app_id,content-type' },
  });
}

/**
 * The client IP the service saw for a request with this X-Forwarded-For (the request's `ip`, as
 * the adapter works it out): an admin acting as a user is audited with it.
 */
async function clientIpSeen(service: TestService, tenant: TestApp, forwardedFor: string): Promise<string> {
  const user = await service.createUser(tenant.app, { username: `ip_${Date.now()}_${Math.floor(Math.random() * 1e6)}` });
  const reply = await service.call('GET', '/user/device/list', {
    appId: tenant.app.id,
    token: tenant.adminToken,
    headers: { user_id: String(user.id), 'x-forwarded-for': forwardedFor },
  });
  expect(reply.body.code).toBe(200);
  const rows = await service.dataSource.query('SELECT client_ip FROM impersonation_audit WHERE app_id = $1 AND acting_user_id = $2', [tenant.app.id, user.id]);
  expect(rows).toHaveLength(1);
  return rows[0].client_ip as string;
}

describe('HTTP hardening with the default configuration', () => {
  let service: TestService;
  let tenant: TestApp;

  beforeAll(async () => {
    service = await TestService.start();
    tenant = await service.createApp();
    await service.createUser(tenant.app, { username: 'hardened', password: PASSWORD });
  });
  afterAll(() => service.close());

  const login = (password: string, headers: Record<string, string> = {}) =>
    service.post('/token/user', { appId: tenant.app.id, body: { name: 'hardened', password }, headers });

  it('runs on Fastify', () => {
    expect(service.nest.getHttpAdapter().getType()).toBe('fastify');
  });

  describe('security headers', () => {
    it('are on a successful login reply', async () => {
      const reply = await login(PASSWORD);
      expect(reply.body.code).toBe(200);
      expectSecurityHeaders(reply);
    });

    it('are on error replies: a wrong password, a missing app_id, an unknown route', async () => {
      const wrong = await login('wrong password');
      expectError(wrong, 401, 10101);
      expectSecurityHeaders(wrong);
      const noApp = await service.post('/token/user', { body: { name: 'hardened', password: PASSWORD } });
      expect(noApp.body.code).not.toBe(200);
      expectSecurityHeaders(noApp);
      const unknown = await service.call('GET', '/no/such/route');
      expect(unknown.status).toBe(404);
      expectSecurityHeaders(unknown);
    });
  });

  describe('Cache-Control', () => {
    it('is no-store on /token/user replies, successful or not', async () => {
      const ok = await login(PASSWORD);
      expect(ok.body.code).toBe(200);
      expect(ok.headers.get('cache-control')).toBe('no-store');
      const wrong = await login('wrong password');
      expectError(wrong, 401, 10101);
      expect(wrong.headers.get('cache-control')).toBe('no-store');
    });

    it('is no-store on the other token routes and on /user replies', async () => {
      const byLoginName = await service.post('/token/login', { appId: tenant.app.id, body: { login_name: 'hardened', password: PASSWORD } });
      expect(byLoginName.body.code).toBe(200);
      expect(byLoginName.headers.get('cache-control')).toBe('no-store');
      const list = await service.call('GET', '/user/list', { appId: tenant.app.id, token: tenant.adminToken });
      expect(list.body.code).toBe(200);
      expect(list.headers.get('cache-control')).toBe('no-store');
    });

    it('is no-store when the path is percent-encoded (Fastify routes it to the token route)', async () => {
      const encoded = await service.post('/%74oken/user', { appId: tenant.app.id, body: { name: 'hardened', password: PASSWORD } });
      expect(encoded.status).toBe(200);
      expect(encoded.headers.get('cache-control')).toBe('no-store');
    });
  });

  describe('Swagger UI at /docs under the Content-Security-Policy', () => {
    it('loads only same-origin scripts, which script-src allows, and no inline script', async () => {
      const page = await service.call('GET', '/docs');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const csp = parseCsp(page.headers.get('content-security-policy'));
      expect(sourcesFor(csp, 'script-src')).toEqual(["'self'"]);

      const scripts = [...page.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attributes, body] of scripts) {
        const src = /\bsrc=["']([^"']+)["']/.exec(attributes)?.[1];
        expect({ src, inline: body.trim() }).toEqual({ src: expect.any(String), inline: '' });
        const url = new URL(src!, `${service.baseUrl}/docs`);
        expect(url.origin).toBe(service.baseUrl); // 'self'
        const script = await fetch(url);
        expect({ url: url.pathname, status: script.status }).toEqual({ url: url.pathname, status: 200 });
        expect(script.headers.get('content-type')).toMatch(/javascript/);
        expect(script.headers.get('x-content-type-options')).toBe('nosniff'); // so the type must be right, and is
      }
      expect(scripts.map(([, attributes]) => /src=["']([^"']+)["']/.exec(attributes)?.[1])).toContain('./docs/swagger-ui-init.js');
    });

    it('serves swagger-ui-init.js, which carries the API document itself (no fetch to another origin)', async () => {
      const init = await service.call('GET', '/docs/swagger-ui-init.js');
      expect(init.status).toBe(200);
      expect(init.headers.get('content-type')).toMatch(/javascript/);
      expect(init.text).toContain('"swaggerDoc"');
      expect(init.text).toContain('/token/user');
      expect(sourcesFor(parseCsp(init.headers.get('content-security-policy')), 'connect-src')).toContain("'self'");
    });

    it('loads its stylesheet from this origin and its inline <style>, which style-src allows', async () => {
      const page = await service.call('GET', '/docs');
      const styleSources = sourcesFor(parseCsp(page.headers.get('content-security-policy')), 'style-src');
      expect(page.text).toMatch(/<style>/);
      expect(styleSources).toEqual(["'self'", "'unsafe-inline'"]);

      const hrefs = [...page.text.matchAll(/<link\b[^>]*rel="stylesheet"[^>]*href="([^"]+)"/g)].map(([, href]) => href);
      expect(hrefs.length).toBeGreaterThan(0);
      for (const href of hrefs) {
        const url = new URL(href, `${service.baseUrl}/docs`);
        expect(url.origin).toBe(service.baseUrl);
        const sheet = await fetch(url);
        expect({ url: url.pathname, status: sheet.status }).toEqual({ url: url.pathname, status: 200 });
        expect(sheet.headers.get('content-type')).toMatch(/^text\/css/);
      }
    });

    it('does not upgrade the page\'s own requests to https, so /docs works over plain HTTP', async () => {
      const page = await service.call('GET', '/docs');
      expect(parseCsp(page.headers.get('content-security-policy')).has('upgrade-insecure-requests')).toBe(false);
    });
  });

  describe('CORS, closed unless configured', () => {
    it('sends no Access-Control-Allow-Origin on a call with an Origin header', async () => {
      const reply = await login(PASSWORD, { origin: ALLOWED_ORIGIN });
      expect(reply.body.code).toBe(200);
      expect(reply.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('allows no preflight', async () => {
      const reply = await preflight(service, ALLOWED_ORIGIN);
      expect(reply.headers.get('access-control-allow-origin')).toBeNull();
      expect(reply.headers.get('access-control-allow-headers')).toBeNull();
      expect(reply.headers.get('access-control-allow-methods')).toBeNull();
    });
  });

  it('does not trust X-Forwarded-For from anyone', async () => {
    expect(await clientIpSeen(service, tenant, '203.0.113.7')).toBe('127.0.0.1');
  });

  describe('a URL whose path does not percent-decode', () => {
    it('is answered 400 / 10002 in the envelope, whatever the method and path', async () => {
      for (const [method, path] of UNDECODABLE_PATHS) {
        const reply = await service.call(method, path, { appId: tenant.app.id });
        expect({ method, path, status: reply.status, body: reply.body }).toEqual({ method, path, status: 400, body: UNDECODABLE_PATH_ERROR });
      }
    });

    it('is answered like any other reply: its request id, the security headers, no-store on a token path', async () => {
      const reply = await service.post('/token/%E0%A4%A', { appId: tenant.app.id, headers: { 'x-request-id': 'undecodable-path-1' }, body: {} });
      expectError(reply, 400, 10002);
      expect(reply.headers.get('x-request-id')).toBe('undecodable-path-1');
      expect(reply.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expectSecurityHeaders(reply);
      expect(reply.headers.get('cache-control')).toBe('no-store');
    });
  });
});

describe('HTTP hardening with ERROR_HTTP_STATUS=200', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await TestService.start({ ERROR_HTTP_STATUS: '200' });
  });
  afterAll(() => service.close());

  it('answers a URL whose path does not percent-decode with 200 and the same envelope', async () => {
    for (const [method, path] of UNDECODABLE_PATHS) {
      const reply = await service.call(method, path);
      expect({ method, path, status: reply.status, body: reply.body }).toEqual({ method, path, status: 200, body: UNDECODABLE_PATH_ERROR });
    }
  });
});

describe('HTTP hardening with CORS_ORIGINS and TRUSTED_PROXIES', () => {
  let service: TestService;
  let tenant: TestApp;

  beforeAll(async () => {
    service = await TestService.start({ CORS_ORIGINS: `${ALLOWED_ORIGIN}, https://admin.example`, TRUSTED_PROXIES: 'loopback' });
    tenant = await service.createApp();
    await service.createUser(tenant.app, { username: 'cross_origin', password: PASSWORD });
  });
  afterAll(() => service.close());

  it('allows a preflight from a configured origin, with the platform\'s headers', async () => {
    const reply = await preflight(service, ALLOWED_ORIGIN);
    expect(reply.status).toBe(204);
    expect(reply.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(reply.headers.get('access-control-allow-methods')?.split(',')).toEqual(expect.arrayContaining(['POST']));
    const allowed = reply.headers.get('access-control-allow-headers')?.split(',') ?? [];
    expect(allowed).toEqual(expect.arrayContaining(['app_id', 'access-token', 'group_id', 'user_id', 'content-type', 'x-request-id']));
    expect(reply.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('allows the second configured origin too, and answers each with its own origin', async () => {
    const reply = await preflight(service, 'https://admin.example');
    expect(reply.headers.get('access-control-allow-origin')).toBe('https://admin.example');
    expect(reply.headers.get('vary')).toMatch(/Origin/i);
  });

  it('does not allow a preflight from another origin', async () => {
    for (const origin of ['https://evil.example', 'http://app.example', 'https://app.example.evil.example']) {
      const reply = await preflight(service, origin);
      expect({ origin, allowed: reply.headers.get('access-control-allow-origin') }).toEqual({ origin, allowed: null });
    }
  });

  it('marks a real call from a configured origin as readable by it, and one from another origin not', async () => {
    const call = (origin: string) => service.post('/token/user', { appId: tenant.app.id, body: { name: 'cross_origin', password: PASSWORD }, headers: { origin } });
    const allowed = await call(ALLOWED_ORIGIN);
    expect(allowed.body.code).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers.get('cache-control')).toBe('no-store');
    const other = await call('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('trusts X-Forwarded-For from loopback proxies only', async () => {
    // The test client is on loopback: its X-Forwarded-For is believed...
    expect(await clientIpSeen(service, tenant, '203.0.113.7')).toBe('203.0.113.7');
    // ...and the chain is followed only through trusted proxies: 203.0.113.7 is not one, so it is the client.
    expect(await clientIpSeen(service, tenant, '10.0.0.1, 203.0.113.7')).toBe('203.0.113.7');
  });
});
