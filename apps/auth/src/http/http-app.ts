/**
 * Builds the HTTP application the same way for `npm start`, the end-to-end tests and the
 * benchmark, so what is tested is what runs.
 *
 * Every reply carries helmet's security headers. The Content-Security-Policy is helmet's default,
 * narrowed to what Swagger UI at /docs loads: its scripts and stylesheet from this origin, inline
 * styles (the page's <style> blocks and those Swagger UI injects: without 'unsafe-inline' a
 * browser blocks them; never allowed for scripts), data: images.
 * `upgrade-insecure-requests` is left out: on a service reached over plain HTTP (a LAN address,
 * or localhost in Safari, which upgrades even that) it turns /docs' own script and stylesheet
 * requests into https ones that fail; behind a TLS proxy, HSTS (kept) does that job.
 *
 * Logging: logging/app-logger.ts.
 */
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import type { Logger as PinoLogger } from 'pino';
import type { ServiceConfig } from '@app/config';
import { AuthModule } from '../auth.module';
import { AppLogger, createAppLog, requestLogger } from '../logging/app-logger';
import { setUpApiDocs } from './api-docs';
import { requestIdMiddleware } from './request-id.middleware';


/** The platform's request headers that browser clients send; preflights must allow them. */
const CORS_ALLOWED_HEADERS = ['app_id', 'access-token', 'group_id', 'user_id', 'content-type', 'x-request-id'];
/** What the controllers answer; nothing else is allowed cross-origin. */
const CORS_METHODS = ['GET', 'POST', 'PUT'];

export async function createHttpApp(
  config: ServiceConfig,
  databaseUrl: string,
  log: PinoLogger = createAppLog(config),
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AuthModule.forRoot({ config, databaseUrl }), {
    bodyParser: false,
    logger: new AppLogger(log),
  });
  app.disable('x-powered-by');
  // Without trusted proxies the socket's address is the client: a forged X-Forwarded-For counts for nothing.
  app.set('trust proxy', config.trustedProxies.length > 0 ? config.trustedProxies : false);

  // First of all, so the id is on every reply and every log line, and every request is logged.
  app.use(requestIdMiddleware);
  app.use(requestLogger(log));
  // Registered before any route (Swagger's included), so every reply, errors and 404s too, has them.
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          'style-src': ["'self'", "'unsafe-inline'"],
          'upgrade-insecure-requests': null,
        },
      },
    }),
  );
  // Replies that carry tokens or user data must not be stored by any cache (as RFC 6749 §5.1 asks).
  app.use(['/token', '/user'], (_request: Request, response: Response, next: NextFunction) => {
    response.setHeader('Cache-Control', 'no-store');
    next();
  });
  // Closed unless configured: without CORS_ORIGINS no Access-Control-* header is ever sent.
  if (config.corsOrigins.length > 0) {
    app.enableCors({ origin: config.corsOrigins, methods: CORS_METHODS, allowedHeaders: CORS_ALLOWED_HEADERS });
  }

  setUpApiDocs(app);
  return app;
}
