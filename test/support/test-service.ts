/**
 * The real service, started in-process on a random loopback port, over the run's test database.
 * Tests talk to it with `fetch` (real HTTP) and use its services only to set up apps and users.
 */
import type { INestApplication } from '@nestjs/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { loadServiceConfig, type ServiceConfig } from '../../libs/config/src';
import { createHttpApp } from '../../apps/auth/src/http/http-app';
import { createAppLog } from '../../apps/auth/src/logging/app-logger';
import { TenantsService, type NewAppSettings } from '../../apps/auth/src/tenants/tenants.service';
import { UsersService, type NewUser } from '../../apps/auth/src/users/users.service';
import { AdminTokensService } from '../../apps/auth/src/admin-tokens/admin-tokens.service';
import type { AppEntity } from '../../apps/auth/src/tenants/app.entity';
import type { UserEntity } from '../../apps/auth/src/users/user.entity';
import { HARNESS_ERROR_MODE } from './error-mode';

/** Shared by every test process, so signing keys sealed by one can be opened by another. */
export const TEST_MASTER_KEY = '6d61737465722d6b65792d666f722d7465737473206f6e6c792d2d2d2d2d2d21';

export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface CallOptions {
  appId?: string;
  token?: string;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, with `contentType` (default application/json). */
  rawBody?: string | Buffer;
  contentType?: string;
}

export interface StartOptions {
  /** Receives the service's log lines, parsed, instead of stdout. */
  logLines?: Array<Record<string, any>>;
  /** Another (migrated) database than the run's, e.g. a ThrowawayPostgres's. */
  databaseUrl?: string;
}

export interface TestApp {
  app: AppEntity;
  adminToken: string;
}

/**
 * Note: Passport keeps its strategies in one process-wide registry, so a second TestService in the
 * same test file takes over the login strategies; keep both open until afterAll and close them
 * together, or the first one's logins fail once the second is closed.
 */
export class TestService {
  private constructor(
    readonly nest: INestApplication,
    readonly config: ServiceConfig,
    readonly baseUrl: string,
  ) {}

  /** `env` overrides the harness's variables; a variable set to undefined is left unset (the service's default). */
  static async start(env: Record<string, string | undefined> = {}, options: StartOptions = {}): Promise<TestService> {
    const databaseUrl = options.databaseUrl ?? process.env.TEST_DATABASE_URL;
    if (!databaseUrl) throw new Error('TEST_DATABASE_URL is not set: run the e2e tests through jest (global-setup)');
    const config = loadServiceConfig({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'im-auth-test-data-')),
      MASTER_KEY: TEST_MASTER_KEY,
      SEED_DEMO: 'false',
      LOG_LEVEL: 'warn',
      DB_POOL_SIZE: '5',
      ...HARNESS_ERROR_MODE,
      ...env,
    });
    const lines = options.logLines;
    const log = lines ? createAppLog(config, { write: (line: string) => void lines.push(JSON.parse(line)) }) : undefined;
    const nest = await createHttpApp(config, databaseUrl, log);
    await nest.listen(0, '127.0.0.1');
    const address = nest.getHttpServer().address() as { port: number };
    return new TestService(nest, config, `http://127.0.0.1:${address.port}`);
  }

  async close(): Promise<void> {
    await this.nest.close();
  }

  get dataSource(): DataSource {
    return this.nest.get(DataSource);
  }

  /** A new app (tenant) with an admin token; settings as for `app create`. */
  async createApp(settings: Partial<NewAppSettings> = {}): Promise<TestApp> {
    const app = await this.nest.get(TenantsService).create({ name: `test-${Date.now()}`, ...settings });
    const adminToken = (await this.nest.get(AdminTokensService).create(app.id, 'test')).token;
    return { app, adminToken };
  }

  createUser(app: AppEntity, user: Partial<NewUser> = {}): Promise<UserEntity> {
    return this.nest.get(UsersService).register(app, { password: 'correct horse battery', ...user });
  }

  async call<T = any>(method: string, path: string, options: CallOptions = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.appId !== undefined) headers.app_id = options.appId;
    if (options.token !== undefined) headers['access-token'] = options.token;
    let body: string | Buffer | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
      headers['content-type'] ??= options.contentType ?? 'application/json';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }

  post<T = any>(path: string, options: CallOptions = {}): Promise<Reply<T>> {
    return this.call<T>('POST', path, options);
  }
}

/** Decodes a JWT's header and claims without verifying it (the tests verify separately). */
export function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header, claims] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
  return { header, claims };
}

/** Asserts the envelope of an error reply and returns it. */
export function expectError(reply: Reply, status: number, code: number, message?: string | RegExp): void {
  expect({ status: reply.status, code: reply.body?.code, data: reply.body?.data }).toEqual({ status, code, data: null });
  expect(typeof reply.body.message).toBe('string');
  if (message !== undefined) expect(reply.body.message).toMatch(message);
}
