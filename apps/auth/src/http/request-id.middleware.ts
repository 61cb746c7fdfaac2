import type { NextFunction, Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { ResolvedRequest } from './request-context';

/** What a caller's `x-request-id` must look like to be kept; anything else is replaced. */
const ACCEPTABLE_ID = /^[\w.:-]{1,128}$/;

/**
 * The one source of a request's id: the caller's `x-request-id` when it looks like an id, else a
 * new UUID. Set on the request (the request log line, error logs and every log line written while
 * the request runs carry it) and echoed in the reply's `x-request-id`. Mounted first, so that every
 * reply, errors and 404s too, has one.
 */
export function requestIdMiddleware(request: ResolvedRequest, response: Response, next: NextFunction): void {
  const incoming = request.headers['x-request-id'];
  request.requestId = typeof incoming === 'string' && ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID();
  response.setHeader('x-request-id', request.requestId);
  next();
}
