/**
 * The API docs as a person uses them: Swagger UI at /docs in a real Chromium, under the service's
 * real Content-Security-Policy, entering app_id and access-token once with the Authorize button,
 * then logging a real user in and calling the user's endpoints with "Try it out", and finding the
 * authorization still there after a reload; and the OpenAPI document at /docs-json, checked route
 * by route against what the service enforces and the error catalogue; and the Content-Type of
 * each, which says UTF-8.
 *
 * Needs Debian's Chromium at /usr/bin/chromium (`apt-get install -y chromium`); without it the
 * tests fail and say so. The screenshot of the login goes to test-artifacts/swagger-try-it-out.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { ErrorCatalogue } from '@app/contract';
import { TestService, decodeJwt, type TestApp } from '../support/test-service';
import { launchChromium, cspViolations, type BrowserSession } from '../support/chromium';
import type { UserEntity } from '../../apps/auth/src/users/user.entity';

const USERNAME = 'swagger_alice';
const PASSWORD = 'correct horse battery';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const SCREENSHOT = join(ARTIFACTS, 'swagger-try-it-out.png');
const TOKEN_ROUTES = ['/token/id', '/token/login', '/token/user'];
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** POST and PUT routes that take no JSON body, and where their input is instead. */
const BODILESS_WRITES: Record<string, string> = {
  'POST /token/revoke': 'the token to revoke is the access-token header',
  'POST /user/token/unbind': 'device_sn is a query parameter',
};

/** Writes whose body may be left out, and why. */
const OPTIONAL_BODIES: Record<string, string> = {
  'POST /user/device/remove': 'device_sn may come in the query instead',
  'POST /user/kick': 'device_sn may come in the query instead',
};

interface Operation {
  /** `POST /token/user` */
  route: string;
  method: string;
  path: string;
  spec: any;
}

describe('the API docs', () => {
  let service: TestService;
  let tenant: TestApp;
  let user: UserEntity;
  /** The user's token, entered once in the Authorize dialog as a person would paste it. */
  let userToken: string;
  let document: any;
  let operations: Operation[];

  beforeAll(async () => {
    service = await TestService.start();
    tenant = await service.createApp();
    user = await service.createUser(tenant.app, { username: USERNAME, password: PASSWORD });
    const login = await service.post('/token/user', { appId: tenant.app.id, body: { name: USERNAME, password: PASSWORD } });
    expect(login.body.code).toBe(200);
    userToken = login.body.data.token;
    const reply = await service.call('GET', '/docs-json');
    expect(reply.status).toBe(200);
    document = reply.body;
    operations = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      HTTP_METHODS.filter((method) => item[method]).map((method) => ({
        route: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        spec: item[method],
      })),
    );
  });
  afterAll(() => service?.close());

  describe('Swagger UI at /docs, in Chromium', () => {
    let browser: BrowserSession;

    beforeAll(async () => {
      browser = await launchChromium(service.baseUrl);
      await browser.page.goto(`${service.baseUrl}/docs`);
      await browser.page.locator('.opblock').first().waitFor({ timeout: 15_000 });
    });
    afterAll(() => browser?.close());

    /** The operation block of one route, found by Swagger UI's data-path (the text has <wbr>s). */
    const operation = (method: string, path: string): Locator =>
      browser.page.locator(`.opblock.opblock-${method}`, { has: browser.page.locator(`.opblock-summary-path[data-path="${path}"]`) });

    /**
     * "Try it out" on one operation, as a person clicks it (the body typed in when given): what the
     * browser sent, and the live response the page shows (status and parsed body).
     */
    async function tryItOut(method: 'get' | 'post', path: string, body?: unknown) {
      const block = operation(method, path);
      if (!(await block.locator('.try-out__btn').isVisible())) await block.locator('.opblock-summary-control').click();
      const tryOut = block.locator('.try-out__btn');
      if ((await tryOut.innerText()).trim() === 'Try it out') await tryOut.click();
      if (body !== undefined) await block.locator('textarea.body-param__text').fill(JSON.stringify(body, null, 2));
      const sent = browser.page.waitForRequest((request) => request.url() === `${service.baseUrl}${path}` && request.method() === method.toUpperCase());
      await block.locator('button.execute').click();
      const request = await sent;
      // (The table's header row has a .response-col_status cell too, reading "Code".)
      const live = block.locator('.responses-wrapper .live-responses-table tbody tr.response');
      await live.waitFor({ timeout: 15_000 });
      const status = await live.locator('.response-col_status').innerText();
      const shown = JSON.parse(await live.locator('.response-col_description .microlight').first().innerText());
      return { block, request, status, shown };
    }

    /** One scheme's form in the Authorize dialog (each has its own value and Authorize button), by its heading. */
    const schemeForm = (name: string): Locator =>
      browser.page.locator('.dialog-ux .modal-ux .auth-container', { has: browser.page.locator('h4 code', { hasText: new RegExp(`^${name}$`) }) });

    it('lists the three token routes', async () => {
      for (const path of TOKEN_ROUTES) {
        const block = operation('post', path);
        await expect(block.count()).resolves.toBe(1);
        await expect(block.locator('.opblock-summary-path').innerText()).resolves.toBe(path);
      }
    });

    it('takes app_id and access-token once, in the Authorize dialog', async () => {
      const { page } = browser;
      await page.locator('.auth-wrapper .btn.authorize').click();
      const dialog = page.locator('.dialog-ux .modal-ux');
      await dialog.waitFor({ timeout: 15_000 });
      await expect(dialog.locator('h4 code').allInnerTexts()).resolves.toEqual(['app_id', 'access-token']);
      for (const [name, value] of [['app_id', tenant.app.id], ['access-token', userToken]]) {
        const form = schemeForm(name);
        await form.locator('input').fill(value);
        await form.locator('button.modal-btn.auth.authorize').click();
        // Authorized: the scheme says so and hides its value.
        await form.locator('h6', { hasText: 'Authorized' }).waitFor({ timeout: 15_000 });
        await expect(form.locator('input').count()).resolves.toBe(0);
      }
      await dialog.locator('button.btn-done').first().click();
      await dialog.waitFor({ state: 'detached', timeout: 15_000 });
    });

    it('logs the user in with "Try it out" on POST /token/user and shows the token reply', async () => {
      const { block, request, status, shown } = await tryItOut('post', '/token/user', { name: USERNAME, password: PASSWORD });

      // What the browser sent: the authorized header and the body as typed.
      expect(request.headers()['app_id']).toBe(tenant.app.id);
      expect(request.headers()['content-type']).toMatch(/^application\/json/);
      expect(request.postDataJSON()).toEqual({ name: USERNAME, password: PASSWORD });

      // What the page shows: the live response's status and body.
      expect(status).toBe('200');
      expect(shown).toMatchObject({ code: 200, message: null, data: { user_id: user.id, token: expect.any(String) } });
      const { claims } = decodeJwt(shown.data.token);
      expect(claims).toMatchObject({ sub: String(user.id), app_id: tenant.app.id });

      mkdirSync(ARTIFACTS, { recursive: true });
      await block.screenshot({ path: SCREENSHOT });
    });

    it("calls the user's own endpoints with nothing but that authorization", async () => {
      for (const path of ['/user/device/list', '/user/impersonations']) {
        const { request, status, shown } = await tryItOut('get', path);
        expect({ path, app_id: request.headers()['app_id'], token: request.headers()['access-token'] }).toEqual({ path, app_id: tenant.app.id, token: userToken });
        expect({ path, status, shown }).toEqual({ path, status: '200', shown: { code: 200, message: null, data: [] } });
      }
    });

    it('runs under the Content-Security-Policy without a violation, an error, or a request off the origin', async () => {
      // Still the document that was loaded first (Swagger UI only changes the #fragment), so its
      // securitypolicyviolation record covers the whole session.
      expect(browser.page.url().split('#')[0]).toBe(`${service.baseUrl}/docs`);
      const policy = (await service.call('GET', '/docs')).headers.get('content-security-policy');
      expect(policy).toContain("script-src 'self'");
      await expect(cspViolations(browser)).resolves.toEqual([]);
      expect(browser.console.filter((line) => line.startsWith('error:'))).toEqual([]);
      expect(browser.pageErrors).toEqual([]);
      expect(browser.foreignRequests).toEqual([]);
    });

    // Last in this block: it loads the page again, which the CSP check above must not see.
    it('keeps the authorization across a reload (persistAuthorization)', async () => {
      await browser.page.reload();
      await browser.page.locator('.opblock').first().waitFor({ timeout: 15_000 });
      const { request, shown } = await tryItOut('get', '/user/device/list');
      expect({ app_id: request.headers()['app_id'], token: request.headers()['access-token'] }).toEqual({ app_id: tenant.app.id, token: userToken });
      expect(shown).toEqual({ code: 200, message: null, data: [] });
    });
  });

  describe('the docs over HTTP', () => {
    it('says in its Content-Type that /docs, its init script and the OpenAPI document are UTF-8', async () => {
      const expected: Record<string, string> = {
        '/docs': 'text/html; charset=utf-8',
        '/docs/': 'text/html; charset=utf-8',
        '/docs/swagger-ui-init.js': 'application/javascript; charset=utf-8',
        '/docs-json': 'application/json; charset=utf-8',
        '/docs-yaml': 'text/yaml; charset=utf-8',
      };
      const sent: Record<string, string | null> = {};
      for (const path of Object.keys(expected)) {
        const reply = await service.call('GET', path);
        expect({ path, status: reply.status }).toEqual({ path, status: 200 });
        sent[path] = reply.headers.get('content-type');
      }
      expect(sent).toEqual(expected);
    });

    it('says UTF-8 for every script and stylesheet the page loads', async () => {
      const page = await service.call('GET', '/docs');
      const assets = [...page.text.matchAll(/<(?:script\b[^>]*\bsrc|link\b[^>]*\bhref)="([^"]+)"/g)].map(([, url]) => new URL(url, `${service.baseUrl}/docs`).pathname);
      expect(assets).toEqual(expect.arrayContaining(['/docs/swagger-ui-bundle.js', '/docs/swagger-ui.css']));
      for (const path of assets.filter((asset) => /\.(js|css)$/.test(asset))) {
        const reply = await service.call('GET', path);
        expect({ path, status: reply.status, type: reply.headers.get('content-type') }).toEqual({ path, status: 200, type: expect.stringMatching(/; charset=utf-8$/) });
      }
    });
  });

  describe('the OpenAPI document at /docs-json', () => {
    /**
     * The operations whose route refuses a request without app_id: the ones that belong to an app
     * (found by asking the service, not from a list, so a new route is checked the day it appears).
     */
    let probed: Promise<Set<string>> | undefined;
    const appRoutes = () => (probed ??= probeAppRoutes());
    async function probeAppRoutes(): Promise<Set<string>> {
      const needingApp = new Set<string>();
      for (const { route, method, path } of operations) {
        const withBody = method === 'POST' || method === 'PUT' ? { body: {} } : {};
        const reply = await service.call(method, path.replace(/\{[^}]+\}/g, '1'), withBody);
        if (reply.body?.code === ErrorCatalogue.BAD_PARAMETER.code && /app_id/.test(reply.body.message)) needingApp.add(route);
      }
      return needingApp;
    }

    /** Whether every security alternative of the operation includes the app_id scheme (none: the route has no app). */
    const requiresAppId = (spec: any) => Array.isArray(spec.security) && spec.security.length > 0 && spec.security.every((alternative: any) => 'app_id' in alternative);
    const headerParameters = (spec: any) => (spec.parameters ?? []).filter((p: any) => p.in === 'header').map((p: any) => p.name).sort();

    const resolve = (schema: any): any => {
      if (!schema?.$ref) return schema;
      const name = String(schema.$ref).replace('#/components/schemas/', '');
      return document.components?.schemas?.[name];
    };

    it('declares app_id and access-token as apiKey header schemes, for the Authorize button', () => {
      expect(document.components.securitySchemes).toEqual({
        app_id: { type: 'apiKey', in: 'header', name: 'app_id', description: expect.any(String) },
        'access-token': { type: 'apiKey', in: 'header', name: 'access-token', description: expect.any(String) },
      });
    });

    it('requires the app_id scheme on exactly the routes that refuse a call without it, access-token optional', async () => {
      const needingApp = await appRoutes();
      expect([...needingApp]).toEqual(expect.arrayContaining(TOKEN_ROUTES.map((path) => `POST ${path}`)));
      expect(needingApp.has('GET /health/live')).toBe(false);

      const wrong = operations
        .filter(({ route, spec }) => needingApp.has(route) !== requiresAppId(spec))
        .map(({ route, spec }) => `${route}: ${needingApp.has(route) ? 'needs app_id' : 'has no app'}, security ${JSON.stringify(spec.security ?? null)}`);
      expect(wrong).toEqual([]);
      for (const route of needingApp) {
        const { spec } = operations.find((operation) => operation.route === route)!;
        expect({ route, security: spec.security }).toEqual({ route, security: [{ app_id: [], 'access-token': [] }, { app_id: [] }] });
      }
    });

    it('keeps group_id and user_id as parameters of each app route, and app_id and access-token out of them', async () => {
      const needingApp = await appRoutes();
      const wrong = operations
        .filter(({ route, spec }) => (needingApp.has(route) ? headerParameters(spec).join() !== 'group_id,user_id' : headerParameters(spec).length > 0))
        .map(({ route, spec }) => `${route}: header parameters ${headerParameters(spec).join(', ') || 'none'}`);
      expect(wrong).toEqual([]);
    });

    it('documents a JSON body schema on every POST and PUT route that takes a body', () => {
      const problems: string[] = [];
      for (const { route, method, spec } of operations) {
        const body = spec.requestBody;
        if (route in BODILESS_WRITES) {
          if (body) problems.push(`${route}: documents a body, but ${BODILESS_WRITES[route]}`);
          continue;
        }
        if (method !== 'POST' && method !== 'PUT') continue;
        const schema = resolve(body?.content?.['application/json']?.schema);
        if (body?.required !== !(route in OPTIONAL_BODIES)) problems.push(`${route}: the body is ${body?.required ? '' : 'not '}marked required`);
        if (!schema) problems.push(`${route}: no application/json body schema`);
        else if (schema.type !== 'object' || Object.keys(schema.properties ?? {}).length === 0) problems.push(`${route}: the body schema has no properties`);
        else for (const field of schema.required ?? []) if (!(field in schema.properties)) problems.push(`${route}: required ${field} is not a property`);
      }
      expect(problems).toEqual([]);

      const requiredFields = (path: string) => resolve(document.paths[path].post.requestBody.content['application/json'].schema).required.sort();
      expect(requiredFields('/token/id')).toEqual(['password', 'user_id']);
      expect(requiredFields('/token/login')).toEqual(['login_name', 'password']);
      // name or mobile: exactly one, which a JSON schema's `required` cannot say.
      expect(requiredFields('/token/user')).toEqual(['password']);
      expect(requiredFields('/user/token/bind')).toEqual(['device_sn', 'device_token', 'notifier_name']);
    });

    it('lists the catalogue codes each app route can answer, under the HTTP status the catalogue gives them', async () => {
      const needingApp = await appRoutes();
      const byCode = new Map<number, { status: number; message: string }>(Object.values(ErrorCatalogue).map((error) => [error.code, error]));
      const problems: string[] = [];
      const codesOf = new Map<string, number[]>();
      for (const { route, spec } of operations.filter(({ route }) => needingApp.has(route))) {
        const codes: number[] = [];
        for (const [status, response] of Object.entries(spec.responses as Record<string, any>).filter(([status]) => Number(status) >= 400)) {
          const listed: unknown = response.content?.['application/json']?.schema?.properties?.code?.enum;
          if (!Array.isArray(listed) || listed.length === 0) {
            problems.push(`${route} ${status}: no code enum`);
            continue;
          }
          for (const code of listed as number[]) {
            codes.push(code);
            const error = byCode.get(code);
            if (!error) problems.push(`${route} ${status}: ${code} is not in the error catalogue`);
            else if (String(error.status) !== status) problems.push(`${route} ${status}: ${code} is HTTP ${error.status} in the catalogue`);
            if (!String(response.description).includes(`${code}: `)) problems.push(`${route} ${status}: the description does not name ${code}`);
          }
        }
        codesOf.set(route, codes);
        // Every app route can answer a bad parameter and an unknown app.
        for (const code of [ErrorCatalogue.BAD_PARAMETER.code, ErrorCatalogue.APP_NOT_FOUND.code]) {
          if (!codes.includes(code)) problems.push(`${route}: does not list ${code}`);
        }
      }
      expect(problems).toEqual([]);
      for (const path of TOKEN_ROUTES) {
        expect(codesOf.get(`POST ${path}`)).toEqual(expect.arrayContaining([ErrorCatalogue.WRONG_CREDENTIALS.code, ErrorCatalogue.USER_BANNED.code]));
      }
    });
  });
});
