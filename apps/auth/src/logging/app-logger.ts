/**
 * Logs are pino's: one JSON object per line, or readable lines (pino-pretty) when NODE_ENV is not
 * production and stdout is a terminal. Every `new Logger(...)` in the code writes through
 * AppLogger, and a line written while a request runs carries that request's id. Each request ends
 * with one line (id, method, route, status, duration); bodies and headers are never logged, and
 * values under secret-looking keys (passwords, tokens, secrets, credential headers) are replaced
 * at any depth.
 */
import type { LoggerService, LogLevel } from '@nestjs/common';
import type { RequestHandler, Response } from 'express';
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type DestinationStream, type Level, type Logger as PinoLogger } from 'pino';
import { pinoHttp } from 'pino-http';
import { build as prettyStream } from 'pino-pretty';
import type { ServiceConfig } from '@app/config';
import { routePattern } from '../metrics/route-pattern';
import type { ResolvedRequest } from '../http/request-context';

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
export function requestLogger(log: PinoLogger): RequestHandler {
  // The path only: query strings are the caller's and are not logged.
  const pathOf = (request: ResolvedRequest) => request.originalUrl.split('?')[0];
  const fields = (request: ResolvedRequest, response: Response, durationMs: number) => ({
    method: request.method,
    route: routePattern(request),
    path: pathOf(request),
    status: response.statusCode,
    durationMs,
    ...(response.writableEnded ? {} : { aborted: true }),
  });
  const message = (request: ResolvedRequest, response: Response, _error?: Error, durationMs?: number) =>
    `${request.method} ${pathOf(request)} ${response.statusCode} ${durationMs ?? '?'}ms${response.writableEnded ? '' : ' (aborted)'}`;

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
    if (stack !== undefined) fields.err = { stack };
    if (message instanceof Error) {
      log[pinoLevel]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      log[pinoLevel]({ ...fields, data: message });
    } else {
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
