/**
 * Times every request and counts logins by their reply code. It runs before the JSON body is read
 * and before any guard, so refused requests (415, 429, 10101...) are measured like the others.
 *
 * The reply code is read from the envelope as it is written: the success envelope and the
 * exception filter both answer with `response.json`, and a login's outcome (10101, 10103...) is
 * only there, since ERROR_HTTP_STATUS=200 answers business errors with HTTP 200.
 */
import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ErrorCatalogue } from '@app/contract';
import { AuthMetrics, LOGIN_ROUTES } from './auth-metrics';
import { routePattern } from './route-pattern';

/** The `route` label of requests no route handled. */
const UNMATCHED = 'unmatched';
/** The status of a request whose client went away before its reply ended (nginx's convention). */
const CLIENT_CLOSED_REQUEST = 499;

@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: AuthMetrics) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const stopTimer = this.metrics.httpRequestSeconds.startTimer();
    let replyCode: number | undefined;
    const json = response.json.bind(response);
    response.json = (body?: unknown) => {
      const code = (body as { code?: unknown } | null | undefined)?.code;
      if (typeof code === 'number') replyCode = code;
      return json(body);
    };
    // 'close' comes after 'finish', and also when the client went away before the reply ended.
    response.once('close', () => {
      const route = routePattern(request);
      const status = response.writableFinished ? response.statusCode : CLIENT_CLOSED_REQUEST;
      stopTimer({ method: request.method, route: route ?? UNMATCHED, status });
      if (route === undefined) return;
      if (request.method === 'POST' && LOGIN_ROUTES.has(route)) {
        this.metrics.logins.inc({ route, outcome: String(replyCode ?? status) });
      }
      if (replyCode === ErrorCatalogue.TOO_MANY_ATTEMPTS.code) this.metrics.throttled.inc({ route });
    });
    next();
  }
}
