/**
 * Logs are pino's: one JSON object per line, or readable lines (pino-pretty) when NODE_ENV is not
 * production and stdout is a terminal. JSON lines go through LogOutput (log-output.ts), which never
 * blocks the event loop: a log reader that stops reading costs dropped lines, never stalled requests. Every `new Logger(...)` in the code writes through
 * AppLogger, and a line written while a request runs carries that request's id (read from its
 * RequestScope: no per-request logger is made). Each request ends with one line (id, method,
 * route, status, duration); bodies and headers are never logged, and values under secret-looking
 * keys (passwords, tokens, secrets, credential headers) are replaced at any depth.
 */
import type { LoggerService, LogLevel } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type DestinationStream, type Level, type Logger as PinoLogger } from 'pino';
import { build as prettyStream } from 'pino-pretty';
import type { ServiceConfig } from '@app/config';
import { requestPath } from '../http/request-context';
import { currentRequestScope, type RequestScope } from '../http/request-scope';
import { stdoutLogOutput } from './log-output';

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

/**
 * Readable lines for a person at a terminal (written at once: a terminal is read), JSON lines for
 * everything else (production, pipes, files) through the bounded, non-blocking LogOutput; `main`
 * flushes it before the process exits.
 */
function stdout(config: ServiceConfig): DestinationStream {
  const readable = config.nodeEnv !== 'production' && process.stdout.isTTY === true;
  return readable
    ? prettyStream({
        sync: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,context,requestId,method,route,path,status,code,durationMs',
        messageFormat: '{if context}[{context}] {end}{msg}{if requestId} ({requestId}){end}',
      })
    : stdoutLogOutput();
}

/** Health probes and metric scrapes come every few seconds: when they succeed, their lines are debug. */
const PROBE_ROUTES = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * One line per request, written when its reply ends (or the client goes away): id, method, route
 * pattern, path (never the query string, which is the caller's), status, the envelope's code (an
 * error's code whatever HTTP status ERROR_HTTP_STATUS gives it), duration. Nothing is built
 * per request but a timestamp and a listener; the line itself only when its level is enabled.
 * Given the Node.js request and response, whichever adapter serves them (http-platform.ts).
 */
export function requestLogger(log: PinoLogger): (request: IncomingMessage, response: ServerResponse, scope: RequestScope) => void {
  return (request, response, scope) => {
    const started = Date.now();
    response.once('close', () => {
      const status = response.statusCode;
      const route = scope.route();
      const level: Level = status >= 500 ? 'error' : route !== undefined && PROBE_ROUTES.has(route) && status < 400 ? 'debug' : 'info';
      if (!log.isLevelEnabled(level)) return;
      const durationMs = Date.now() - started;
      const path = requestPath(request as { url: string; originalUrl?: string });
      const aborted = !response.writableEnded;
      const code = scope.replyCode;
      log[level](
        { requestId: scope.requestId, method: request.method, route, path, status, code, durationMs, ...(aborted ? { aborted: true } : {}) },
        `${request.method} ${path} ${status}${code !== undefined && code !== status ? ` ${code}` : ''} ${durationMs}ms${aborted ? ' (aborted)' : ''}`,
      );
    });
  };
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
    const log = this.root;
    const pinoLevel = PINO_LEVELS[level];
    if (!log.isLevelEnabled(pinoLevel)) return;
    const requestId = currentRequestScope()?.requestId;
    const rest = [...params];
    const context = typeof rest.at(-1) === 'string' ? (rest.pop() as string) : undefined;
    const stack = (level === 'error' || level === 'fatal') && typeof rest[0] === 'string' ? (rest.shift() as string) : undefined;
    const extra = rest.filter((param) => param !== undefined);
    const fields: Record<string, unknown> = requestId === undefined ? { context } : { requestId, context };
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
