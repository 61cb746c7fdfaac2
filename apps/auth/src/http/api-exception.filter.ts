/**
 * The one place that turns an error into a reply. Every error, whatever threw it (a domain
 * ApiError, Nest's own HTTP exceptions, Fastify, the database driver, a bug), leaves here as
 * the platform's envelope `{code, message, data: null}` with a code from the catalogue. Unexpected
 * errors are logged with the request id and answered without their details.
 *
 * HTTP status: by default (ERROR_HTTP_STATUS=200) business errors answer 200, as the reference
 * platform does and its client SDKs expect, and 5xx stay 5xx; `mirror` (server-wide, or an app's
 * own override) answers each error's own status.
 *
 * A login dropped because its client hung up (HashingAbandoned) is not answered: nobody is left
 * to read it, and the request's log line and metrics already say it was aborted (499).
 *
 * It answers through Nest's HTTP adapter, with whatever response it is given: Fastify's reply, or
 * Node's response when a middleware threw.
 */
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Inject, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiError, ErrorCatalogue, errorEnvelope, type ErrorDefinition } from '@app/contract';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { isDatabaseUnavailable } from '@app/persistence';
import { requestPath, type HttpRequest } from './request-context';
import { currentRequestScope } from './request-scope';
import { HashingAbandoned, HashingSaturated } from '../crypto/hashing-pool';

interface ReplyError {
  definition: ErrorDefinition;
  message: string;
  headers: Readonly<Record<string, string>>;
}

@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (exception instanceof HashingAbandoned) return;
    const http = host.switchToHttp();
    const request = http.getRequest<HttpRequest>();
    const response = http.getResponse<unknown>();
    const adapter = this.adapterHost.httpAdapter;
    const error = this.toReplyError(exception, request);

    if (adapter.isHeadersSent(response)) {
      adapter.end(response);
      return;
    }
    const mode = request.tenant?.errorHttpStatus ?? this.config.errorHttpStatus;
    const status = mode === 'always-200' && error.definition.status < 500 ? HttpStatus.OK : error.definition.status;
    for (const [name, value] of Object.entries(error.headers)) adapter.setHeader(response, name, value);
    const scope = currentRequestScope();
    // For the metrics: a login's outcome is its reply code (HttpMetricsMiddleware).
    if (scope) scope.replyCode = error.definition.code;
    adapter.reply(response, errorEnvelope(error.definition.code, error.message), status);
  }

  private toReplyError(exception: unknown, request: HttpRequest): ReplyError {
    if (exception instanceof ApiError) {
      return { definition: exception.definition, message: exception.message, headers: exception.headers };
    }
    if (exception instanceof HttpException) {
      // Nest hands Fastify's client errors over as HttpExceptions caused by them.
      const fastifyMessage = FASTIFY_MESSAGES.get((exception.cause as { code?: unknown } | undefined)?.code);
      if (fastifyMessage) return { ...plain(ErrorCatalogue.BAD_PARAMETER), message: fastifyMessage };
      return this.fromHttpException(exception);
    }
    if (isCutShortBody(exception)) return { ...plain(ErrorCatalogue.BAD_PARAMETER), message: BODY_NOT_READ };
    if (exception instanceof HashingSaturated) {
      // Every hashing worker busy and the queue full: come back in a moment, elsewhere if balanced.
      return { ...plain(ErrorCatalogue.SERVER_BUSY), headers: { 'Retry-After': '1' } };
    }
    const requestId = currentRequestScope()?.requestId ?? '-';
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`[${requestId}] database unavailable: ${(exception as Error).message}`);
      return plain(ErrorCatalogue.DATABASE_UNAVAILABLE);
    }
    this.logger.error(
      `[${requestId}] unexpected error on ${request.method} ${requestPath(request)}`,
      exception instanceof Error ? exception.stack : String(exception),
    );
    return plain(ErrorCatalogue.INTERNAL);
  }

  private fromHttpException(exception: HttpException): ReplyError {
    switch (exception.getStatus()) {
      case HttpStatus.NOT_FOUND:
        return plain(ErrorCatalogue.ROUTE_NOT_FOUND);
      case HttpStatus.PAYLOAD_TOO_LARGE:
        return plain(ErrorCatalogue.BODY_TOO_LARGE);
      case HttpStatus.UNSUPPORTED_MEDIA_TYPE:
        return plain(ErrorCatalogue.UNSUPPORTED_CONTENT_TYPE);
      case HttpStatus.UNAUTHORIZED:
        // Passport's own refusal (never reached for a validated body): treated as bad credentials.
        return plain(ErrorCatalogue.WRONG_CREDENTIALS);
      case HttpStatus.FORBIDDEN:
        return plain(ErrorCatalogue.NO_PERMISSION);
      case HttpStatus.METHOD_NOT_ALLOWED:
        return plain(ErrorCatalogue.ROUTE_NOT_FOUND);
      default:
        return exception.getStatus() < 500
          ? { ...plain(ErrorCatalogue.BAD_PARAMETER), message: exception.message }
          : plain(ErrorCatalogue.INTERNAL);
    }
  }
}

const BODY_NOT_READ = 'Request body could not be read';

/**
 * The 400s of Fastify's that need words of our own: its messages name Fastify's internals, or
 * (the router's) echo a piece of the path. Its other client errors (413, 415) are answered by status.
 */
const FASTIFY_MESSAGES: ReadonlyMap<unknown, string> = new Map([
  ['FST_ERR_BAD_URL', 'Request path is not valid percent-encoding'],
  ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', BODY_NOT_READ],
]);

/** A body its client stopped sending: Node's `aborted`, which Fastify marks 400 (not the database's ECONNRESET). */
function isCutShortBody(exception: unknown): boolean {
  const { code, statusCode } = (exception ?? {}) as { code?: unknown; statusCode?: unknown };
  return code === 'ECONNRESET' && statusCode === 400;
}

function plain(definition: ErrorDefinition): ReplyError {
  return { definition, message: definition.message, headers: {} };
}
