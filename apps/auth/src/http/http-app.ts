/**
 * Builds the HTTP application the same way for `npm start`, the end-to-end tests and the
 * benchmark, so what is tested is what runs: Nest on Fastify (http-platform.ts).
 *
 * Every reply carries the security headers of helmet 8 (Nest's `useSecurityHeaders`). The
 * Content-Security-Policy is the default, narrowed to what Swagger UI at /docs loads: its scripts
 * and stylesheet from this origin, inline styles (the page's <style> blocks and those Swagger UI
 * injects: without 'unsafe-inline' a browser blocks them; never allowed for scripts), data: images.
 * `upgrade-insecure-requests` is left out: on a service reached over plain HTTP (a LAN address,
 * or localhost in Safari, which upgrades even that) it turns /docs' own script and stylesheet
 * requests into https ones that fail; behind a TLS proxy, HSTS (kept) does that job.
 *
 * Logging: logging/app-logger.ts.
 */
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger as PinoLogger } from 'pino';
import type { ServiceConfig } from '@app/config';
import { AuthModule } from '../auth.module';
import { AppLogger, createAppLog, requestLogger } from '../logging/app-logger';
import { setUpApiDocs } from './api-docs';
import { createHttpAdapter } from './http-platform';
import { requestPath } from './request-context';
import type { RequestScope } from './request-scope';

/** The platform's request headers that browser clients send; preflights must allow them. */
const CORS_ALLOWED_HEADERS = 'app_id,access-token,group_id,user_id,content-type,x-request-id';
/** What the controllers answer; nothing else is allowed cross-origin. */
const CORS_METHODS = 'GET,POST,PUT';
/** What a caller's `x-request-id` must look like to be kept; anything else is replaced. */
const ACCEPTABLE_ID = /^[\w.:-]{1,128}$/;
/** Replies that carry tokens or user data must not be stored by any cache (as RFC 6749 §5.1 asks). */
const NO_STORE_PATHS = /^\/(token|user)(\/|$)/i;

/**
 * The path as the router matches it: Fastify decodes percent-escapes before it picks a route, so
 * `/%74oken/user` reaches the token route and must be no-store too.
 */
function decodedPath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path; // not a valid escape: no route matches it
  }
}

export async function createHttpApp(
  config: ServiceConfig,
  databaseUrl: string,
  log: PinoLogger = createAppLog(config),
): Promise<INestApplication> {
  const logRequest = requestLogger(log);
  // First of all, so that every reply (CORS preflights, errors and 404s too) has its id, and
  // every request is logged.
  const adapter = createHttpAdapter(config, (request, response, route) => {
    const scope: RequestScope = { requestId: requestIdOf(request), route };
    response.setHeader('x-request-id', scope.requestId);
    if (NO_STORE_PATHS.test(decodedPath(requestPath(request as { url: string })))) response.setHeader('Cache-Control', 'no-store');
    logRequest(request, response, scope);
    return scope;
  });

  const app = await NestFactory.create(AuthModule.forRoot({ config, databaseUrl }), adapter, {
    bodyParser: false,
    logger: new AppLogger(log),
  });
  // Before any route (Swagger's included), so every reply, errors and 404s too, has them.
  app.useSecurityHeaders({
    contentSecurityPolicy: {
      directives: {
        'style-src': ["'self'", "'unsafe-inline'"],
        'upgrade-insecure-requests': null,
      },
    },
  });
  // Closed unless configured: without CORS_ORIGINS no Access-Control-* header is ever sent.
  if (config.corsOrigins.length > 0) {
    app.enableCors({ origin: config.corsOrigins, methods: CORS_METHODS, allowedHeaders: CORS_ALLOWED_HEADERS });
  }

  setUpApiDocs(app);
  return app;
}

/**
 * The one source of a request's id: the caller's `x-request-id` when it looks like an id, else a
 * new UUID. Echoed in the reply's `x-request-id`; the request's log line, error logs and every log
 * line written while the request runs carry it.
 */
function requestIdOf(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID();
}
