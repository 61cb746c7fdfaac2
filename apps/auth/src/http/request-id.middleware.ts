import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { ResolvedRequest } from './request-context';

/** Accepts a caller's `x-request-id` (when it looks like an id) or makes one; echoes it back. */
const ACCEPTABLE_ID = /^[\w.:-]{1,128}$/;

@Injectable()
export class RequestIdMiddleware implements NestMiddleware {
  use(request: ResolvedRequest, response: Response, next: NextFunction): void {
    const incoming = request.headers['x-request-id'];
    request.requestId = typeof incoming === 'string' && ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID();
    response.setHeader('x-request-id', request.requestId);
    next();
  }
}
