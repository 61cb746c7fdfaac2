/**
 * Times every request and counts logins by their reply code. It runs before the JSON body is read
 * and before any guard, so refused requests (415, 429, 10101...) are measured like the others.
 *
 * The reply code is the envelope's, which the success envelope and the exception filter record in
 * the request's scope: an error's code (10101, 10103...) is only there, since ERROR_HTTP_STATUS=200
 * (the default) answers business errors with HTTP 200; every enveloped reply is counted by it. It
 * works on Node's request and response, which is what Nest middleware gets on Fastify.
 */
import { Injectable, NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCatalogue } from '@app/contract';
import { currentRequestScope } from '../http/request-scope';
import { AuthMetrics, LOGIN_ROUTES } from './auth-metrics';

/** The `route` label of requests no route handled. */
const UNMATCHED = 'unmatched';
/** The status of a request whose client went away before its reply ended (nginx's convention). */
const CLIENT_CLOSED_REQUEST = 499;

@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: AuthMetrics) {}

  use(request: IncomingMessage, response: ServerResponse, next: () => void): void {
    const stopTimer = this.metrics.httpRequestSeconds.startTimer();
    const scope = currentRequestScope();
    // 'close' comes after 'finish', and also when the client went away before the reply ended.
    response.once('close', () => {
      // The route pattern (`/user/:id`), never the raw URL, so that labels stay few whatever paths clients send.
      const route = scope?.route();
      const method = request.method ?? 'GET';
      const status = response.writableFinished ? response.statusCode : CLIENT_CLOSED_REQUEST;
      stopTimer({ method, route: route ?? UNMATCHED, status });
      const replyCode = scope?.replyCode;
      if (replyCode !== undefined) this.metrics.replyCodes.inc({ route: route ?? UNMATCHED, code: String(replyCode) });
      if (route === undefined) return;
      if (method === 'POST' && LOGIN_ROUTES.has(route)) {
        this.metrics.logins.inc({ route, outcome: String(replyCode ?? status) });
      }
      if (replyCode === ErrorCatalogue.TOO_MANY_ATTEMPTS.code) this.metrics.throttled.inc({ route });
    });
    next();
  }
}
