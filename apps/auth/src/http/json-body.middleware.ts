/**
 * Reads request bodies as JSON, and only JSON: a body with another Content-Type is 415, one over
 * BODY_LIMIT_BYTES is 413, malformed JSON or invalid UTF-8 is 400, all in the envelope (errors are
 * thrown, so the exception filter formats them). A request without a body gets `{}`, so a missing
 * field is reported by validation, naming the field.
 */
import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { json } from 'express';
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

  async use(request: Request, response: Response, next: NextFunction): Promise<void> {
    if (!hasBody(request)) {
      request.body = {};
      return next();
    }
    const contentType = request.headers['content-type'] ?? '';
    if (!JSON_TYPE.test(contentType)) throw new ApiError('UNSUPPORTED_CONTENT_TYPE');
    await new Promise<void>((resolve, reject) => {
      this.parse(request, response, (error?: unknown) => (error ? reject(error) : resolve()));
    });
    next();
  }
}

function hasBody(request: Request): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return request.headers['transfer-encoding'] !== undefined;
}
