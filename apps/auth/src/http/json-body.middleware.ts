/**
 * Reads request bodies as JSON, and only JSON: a body with another Content-Type is 415, one over
 * BODY_LIMIT_BYTES is 413, malformed JSON or invalid UTF-8 is 400, all in the envelope (errors are
 * thrown, so the exception filter formats them). A request without a body gets `{}`, so a missing
 * field is reported by validation, naming the field.
 *
 * It works on Node's request and response, which is what Nest middleware gets on Fastify, and what
 * Express's are: the same parser (body-parser's) reads bodies whatever HTTP_ADAPTER is, and sets
 * `body` on Node's request, where http-platform.ts has Fastify take it from.
 */
import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import type { Request, RequestHandler, Response } from 'express';
import { json } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '@app/contract';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/config';

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly parse: RequestHandler;

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    // No inflate: login bodies are tiny, and a compressed body is one more thing to get wrong (415).
    this.parse = json({ limit: config.bodyLimitBytes, strict: true, inflate: false, type: () => true });
  }

  async use(request: IncomingMessage & { body?: unknown }, response: ServerResponse, next: () => void): Promise<void> {
    if (!hasBody(request)) {
      request.body = {};
      return next();
    }
    const contentType = request.headers['content-type'] ?? '';
    if (!JSON_TYPE.test(contentType)) throw new ApiError('UNSUPPORTED_CONTENT_TYPE');
    await new Promise<void>((resolve, reject) => {
      this.parse(request as Request, response as Response, (error?: unknown) => (error ? reject(error) : resolve()));
    });
    next();
  }
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return request.headers['transfer-encoding'] !== undefined;
}
