/**
 * The HTTP server under Nest: Fastify, configured here once for `npm start`, the tests and the
 * benchmark. Trusted proxies, routing, JSON bodies (json-body.ts), a path that does not decode
 * answered like any other error, text replies labelled UTF-8, and the request hook that runs
 * first on every request.
 */
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServiceConfig } from '@app/config';
import { ErrorCatalogue, errorEnvelope } from '@app/contract';
import { acceptJsonBodies } from './json-body';
import { runInRequestScope, type RequestScope } from './request-scope';

/**
 * Called first thing on every request, before CORS, security headers, middleware and routing,
 * with Node's request and response and a way to read the request's route pattern once routed.
 * The rest of the request runs in the scope it returns.
 */
export type RequestHook = (request: IncomingMessage, response: ServerResponse, route: () => string | undefined) => RequestScope;

/** Longest path parameter routed (Fastify's default, 100, answers longer ones 414). */
const MAX_PARAM_LENGTH = 65_535;

/** What a router error gets should Nest's exception layer itself fail on it. */
const INTERNAL_ERROR_REPLY = JSON.stringify(errorEnvelope(ErrorCatalogue.INTERNAL.code, ErrorCatalogue.INTERNAL.message));

type SecurityHook = Parameters<FastifyAdapter['registerSecurityHook']>[0];

/** Nest's FastifyAdapter, keeping the security headers' hook at hand for `frameworkErrors`. */
class ServiceFastifyAdapter extends FastifyAdapter {
  securityHeaders?: SecurityHook;

  override registerSecurityHook(hook: SecurityHook): void {
    this.securityHeaders = hook;
    super.registerSecurityHook(hook);
  }
}

export function createHttpAdapter(config: ServiceConfig, requestHook: RequestHook): FastifyAdapter {
  const adapter: ServiceFastifyAdapter = new ServiceFastifyAdapter({
    // Without trusted proxies the socket's address is the client: a forged X-Forwarded-For counts
    // for nothing. The list is read by proxy-addr: addresses, CIDR ranges, `loopback`.
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    bodyLimit: config.bodyLimitBytes,
    // Node's defaults; Fastify's own are 72 s and none.
    keepAliveTimeout: 5_000,
    requestTimeout: 300_000,
    // Letters in any case, with or without a trailing slash.
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    // Fastify's router refuses a path whose percent-escapes do not decode (FST_ERR_BAD_URL) before
    // any hook runs, and would answer with Fastify's own body. Here the request gets its id and log
    // line (the request hook), the security headers (as Nest's own `frameworkErrors` does), and the
    // envelope from Nest's exception layer, which Nest installs as Fastify's error handler. It is
    // called directly: `reply.send(error)` would reach the default handler Fastify fixed for router
    // errors before Nest set its own. (The other framework errors take the same path: a parameter
    // over MAX_PARAM_LENGTH, which no request line is long enough for; a failed async constraint,
    // which no route has.)
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      try {
        adapter.securityHeaders?.(request, reply.raw);
      } catch {
        // The request is refused either way.
      }
      runInRequestScope(requestHook(request.raw, reply.raw, () => undefined), () => {
        // A throw, synchronous or not, must not escape into Node's request listener; should the
        // exception layer fail, a bare 500 in the envelope still answers, saying nothing more.
        Promise.resolve()
          .then(() => fastify.errorHandler.call(fastify, error, request, reply))
          .catch(() => {
            if (!reply.sent) void reply.code(500).type('application/json; charset=utf-8').send(INTERNAL_ERROR_REPLY);
          });
      });
    },
  });
  const fastify = adapter.getInstance();
  acceptJsonBodies(fastify);
  // Fastify says a string reply is UTF-8 only for JSON; Swagger's /docs (`text/html`), /docs-yaml
  // and swagger-ui-init.js are such strings too.
  fastify.addHook('onSend', (_request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void) => {
    if (typeof payload === 'string') {
      const type = reply.getHeader('content-type');
      if (typeof type === 'string' && !/;\s*charset=/i.test(type)) reply.header('content-type', `${type}; charset=utf-8`);
    }
    done(null, payload);
  });
  adapter.setOnRequestHook((request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const scope = requestHook(request.raw, reply.raw, () => (request.is404 ? undefined : request.routeOptions.url));
    runInRequestScope(scope, () => done());
  });
  return adapter;
}
