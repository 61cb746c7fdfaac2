/**
 * Request bodies are JSON, and only JSON: Fastify reads them, within its body limit
 * (BODY_LIMIT_BYTES), and this parser turns them into the `request.body` that validation and
 * Passport read. Every refusal is an envelope error (docs/errors.md): a body over the limit is 413
 * (Fastify's), one whose Content-Type is not `application/json` or `application/*+json` is 415
 * before it is read, a compressed one or one in a charset other than UTF-8 is 415 too, malformed
 * JSON or a top-level value that is not an object or array 400. A request without a body (a GET,
 * or no Content-Length or a zero one, whatever the type) reads as `{}`, so that validation names
 * the missing field.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '@app/contract';

/** Tested against the media type as Fastify normalizes it: lower case, parameters after `; `. */
const JSON_TYPE = /^application\/([\w.+-]+\+)?json(;|$)/;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i;
/** A JSON text that starts an object or array, after any white space (RFC 8259's four characters). */
const OBJECT_OR_ARRAY = /^[ \t\n\r]*[{[]/;
const NOT_JSON = 'Request body is not valid JSON';

export function acceptJsonBodies(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(JSON_TYPE, { parseAs: 'buffer' }, (request, body, done) => done(null, parseJsonBody(request, body as Buffer)));
  fastify.addContentTypeParser('*', ({ headers }, _payload, done) => {
    const bodyless = headers['content-length'] === '0' || (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined);
    if (bodyless) done(null, {});
    else done(new ApiError('UNSUPPORTED_CONTENT_TYPE'), undefined);
  });
  fastify.addHook('preValidation', (request, _reply, done) => {
    request.body ??= {};
    done();
  });
}

function parseJsonBody(request: FastifyRequest, body: Buffer): unknown {
  if (body.length === 0) return {};
  const encoding = request.headers['content-encoding']?.trim().toLowerCase();
  const charset = CHARSET.exec(request.headers['content-type'] ?? '')?.[1].toLowerCase();
  if ((encoding && encoding !== 'identity') || (charset !== undefined && charset !== 'utf-8')) {
    throw new ApiError('UNSUPPORTED_CONTENT_TYPE', 'Request body must be UTF-8 JSON');
  }
  // Invalid UTF-8 becomes U+FFFD, as any UTF-8 decoder does; a byte order mark is dropped.
  const text = body.toString('utf8').replace(/^\uFEFF/, '');
  if (!OBJECT_OR_ARRAY.test(text)) throw new ApiError('BAD_PARAMETER', NOT_JSON);
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('BAD_PARAMETER', NOT_JSON);
  }
}
