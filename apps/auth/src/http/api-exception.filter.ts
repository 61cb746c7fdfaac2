/**
 * The one place that turns an error into a reply. Every error, whatever threw it (a domain
 * ApiError, Nest's own HTTP exceptions, body-parser, the database driver, a bug), leaves here as
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
 * It answers through Nest's HTTP adapter (Express or Fastify, HTTP_ADAPTER), with whatever
 * response it is given: the adapter's, or Node's when a middleware threw on Fastify.
 */
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Inject, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiError, ErrorCatalogue, errorEnvelope, type ErrorDefinition } from '@app/contract';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';
import { isDatabaseUnavailable } from '@app/persistence';
import { requestPath, type HttpRequest, type ResolvedRequest } from './request-context';
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
    const request = http.getRequest<ResolvedRequest>();
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
    const cause = (exception as { cause?: unknown } | null)?.cause;
    // On Fastify, Nest hands body-parser's errors over as HttpExceptions caused by them.
    const fromParser = this.fromBodyParser(exception) ?? this.fromBodyParser(cause);
    if (fromParser) return fromParser;
    // The routers word this differently and Express's echoes a piece of the path: one answer for both.
    if (isUndecodablePath(exception, cause)) return { ...plain(ErrorCatalogue.BAD_PARAMETER), message: 'Request path is not valid percent-encoding' };
    if (exception instanceof HttpException) {
      return this.fromHttpException(exception);
    }
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

  /** body-parser's errors carry a `type`; their messages never include the body itself. */
  private fromBodyParser(exception: unknown): ReplyError | undefined {
    const type = (exception as { type?: unknown } | null)?.type;
    switch (type) {
      case 'entity.too.large':
        return plain(ErrorCatalogue.BODY_TOO_LARGE);
      case 'entity.parse.failed':
        return { ...plain(ErrorCatalogue.BAD_PARAMETER), message: 'Request body is not valid JSON' };
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return { ...plain(ErrorCatalogue.UNSUPPORTED_CONTENT_TYPE), message: 'Request body must be UTF-8 JSON' };
      case 'request.aborted':
      case 'request.size.invalid':
      case 'stream.encoding.set':
        return { ...plain(ErrorCatalogue.BAD_PARAMETER), message: 'Request body could not be read' };
      default:
        return undefined;
    }
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

/**
 * A path whose percent-escapes do not decode, as Nest hands it over (a 400 HttpException caused
 * by it): Express's router fails to decode a parameter of the middleware's `{*splat}` route
 * (URIError), Fastify's router the whole path (FST_ERR_BAD_URL, see http-platform.ts).
 */
function isUndecodablePath(exception: unknown, cause: unknown): boolean {
  // Only a router's 400 caused by it: any other error that happens to carry a URIError is not the path's fault.
  if (!(exception instanceof HttpException) || exception.getStatus() !== 400) return false;
  return cause instanceof URIError || (cause as { code?: unknown } | null)?.code === 'FST_ERR_BAD_URL';
}

function plain(definition: ErrorDefinition): ReplyError {
  return { definition, message: definition.message, headers: {} };
}
