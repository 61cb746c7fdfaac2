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
 * Logs are pino's: one JSON object per line, or readable lines (pino-pretty) when NODE_ENV is not
 * production and stdout is a terminal. Every `new Logger(...)` in the code writes through it, and
 * a line written while a request runs carries that request's id. Each request ends with one line
 * (id, method, route, status, duration); bodies and headers are never logged, and values under
 * secret-looking keys (passwords, tokens, secrets, credential headers) are replaced at any depth.
 */
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { LoggerService, LogLevel } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type DestinationStream, type Level, type Logger as PinoLogger } from 'pino';
import { pinoHttp } from 'pino-http';
import { build as prettyStream } from 'pino-pretty';
import type { ServiceConfig } from '@app/config';
import { AuthModule } from '../auth.module';
import { routePattern } from '../metrics/route-pattern';
import { setUpApiDocs } from './api-docs';
import { requestIdMiddleware } from './request-id.middleware';
import type { ResolvedRequest } from './request-context';

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

/** LOG_LEVEL speaks Nest's level names; these are pino's for the same levels. */
const PINO_LEVELS: Record<LogLevel, Level> = { fatal: 'fatal', error: 'error', warn: 'warn', log: 'info', debug: 'debug', verbose: 'trace' };

/**
 * The process's logger. `main` makes it before Nest starts, so its first lines are formatted like
 * the rest. It writes to stdout unless given another destination (the tests read their own).
 */
export function createAppLog(config: ServiceConfig, destination: DestinationStream = stdout(config)): PinoLogger {
  return pino(
    {
      level: PINO_LEVELS[config.logLevel],
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => censorSecrets(bindings),
        log: (object) => censorSecrets(object),
      },
      serializers: { err: errorSummary },
    },
    destination,
  );
}

/** Readable lines for a person at a terminal, JSON for everything else (production, pipes, files). */
function stdout(config: ServiceConfig): DestinationStream {
  const readable = config.nodeEnv !== 'production' && process.stdout.isTTY === true;
  // Synchronous writes: nothing is lost when the process exits right after a line (`Stopped`, a failed start).
  return readable
    ? prettyStream({
        sync: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,context,requestId,method,route,path,status,durationMs',
        messageFormat: '{if context}[{context}] {end}{msg}{if requestId} ({requestId}){end}',
      })
    : pino.destination({ dest: 1, sync: true });
}

/** The log line of a request; set while it runs, so that whatever logs during it names it. */
const requestLogs = new AsyncLocalStorage<PinoLogger>();

/** Health probes and metric scrapes come every few seconds: when they succeed, their lines are debug. */
const PROBE_ROUTES = new Set(['/health/live', '/health/ready', '/metrics']);

/** One line per request, written when its reply ends (or the client goes away). */
function requestLogger(log: PinoLogger): RequestHandler {
  const fields = (request: ResolvedRequest, response: Response, durationMs: number) => ({
    method: request.method,
    route: routePattern(request),
    // The path only: query strings are the caller's and are not logged.
    path: request.originalUrl.split('?')[0],
    status: response.statusCode,
    durationMs,
    ...(response.writableEnded ? {} : { aborted: true }),
  });
  const message = (request: ResolvedRequest, response: Response, _error?: Error, durationMs?: number) =>
    `${request.method} ${request.originalUrl.split('?')[0]} ${response.statusCode} ${durationMs ?? '?'}ms${response.writableEnded ? '' : ' (aborted)'}`;

  const httpLog = pinoHttp<ResolvedRequest, Response>({
    logger: log,
    genReqId: (request) => request.requestId ?? '-',
    customAttributeKeys: { reqId: 'requestId' },
    // The request's own lines carry only its id; its last line says the rest.
    quietReqLogger: true,
    quietResLogger: true,
    wrapSerializers: false,
    customLogLevel: (request, response, error) => {
      if (error || response.statusCode >= 500) return 'error';
      const route = routePattern(request);
      return route !== undefined && PROBE_ROUTES.has(route) && response.statusCode < 400 ? 'debug' : 'info';
    },
    customSuccessMessage: (request, response, durationMs) => message(request, response, undefined, durationMs),
    customErrorMessage: message,
    customSuccessObject: (request, response, result: { responseTime: number }) => fields(request, response, result.responseTime),
    customErrorObject: (request, response, _error, result: { responseTime: number }) => fields(request, response, result.responseTime),
  });
  return (request, response, next) => httpLog(request, response, () => requestLogs.run(request.log, next));
}

/**
 * Nest's logger interface over pino: Nest's own lines and every `new Logger(context)` in the code
 * come here. Nest passes the context last and `error`'s stack first, as its ConsoleLogger reads them.
 */
export class AppLogger implements LoggerService {
  constructor(private readonly root: PinoLogger) {}

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('log', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('verbose', message, params);
  }

  private write(level: LogLevel, message: unknown, params: unknown[]): void {
    const log = requestLogs.getStore() ?? this.root;
    const pinoLevel = PINO_LEVELS[level];
    if (!log.isLevelEnabled(pinoLevel)) return;
    const rest = [...params];
    const context = typeof rest.at(-1) === 'string' ? (rest.pop() as string) : undefined;
    const stack = (level === 'error' || level === 'fatal') && typeof rest[0] === 'string' ? (rest.shift() as string) : undefined;
    const extra = rest.filter((param) => param !== undefined);
    const fields: Record<string, unknown> = { context };
    if (extra.length > 0) fields.extra = extra;
    if (message instanceof Error) {
      log[pinoLevel]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      log[pinoLevel]({ ...fields, data: message });
    } else {
      if (stack !== undefined) fields.err = { message: String(message), stack };
      log[pinoLevel](fields, String(message));
    }
  }
}

/** Keys whose values never reach the log, at any depth: passwords, tokens of every kind, secrets, keys, credential headers. */
const SECRET_KEY = /(password|password_?hash|passwd|secret|token|authorization|cookie|private_?key|master_?key)$/i;
const MAX_DEPTH = 8;

/** A copy of plain data with the values of secret keys replaced; errors become their summary. */
function censorSecrets<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return errorSummary(value) as T;
  if (depth >= MAX_DEPTH) return '[too deep]' as T;
  if (Array.isArray(value)) return value.map((item: unknown) => censorSecrets(item, depth + 1)) as T;
  const prototype: unknown = Object.getPrototypeOf(value);
  // Other class instances (a request, a buffer) are not walked: nothing here logs them whole.
  if (prototype !== Object.prototype && prototype !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = SECRET_KEY.test(key) ? '[redacted]' : censorSecrets(item, depth + 1);
  return copy as T;
}

/**
 * An error as name, message and stack only: its other properties are left out, as they can hold
 * secrets (a failed query's `parameters` are password hashes and tokens).
 */
function errorSummary(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  return { type: error.name, message: error.message, stack: error.stack, ...(typeof code === 'string' ? { code } : {}) };
}
