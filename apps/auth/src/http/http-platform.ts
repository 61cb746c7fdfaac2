/**
 * Where Express and Fastify differ (HTTP_ADAPTER), in one place: how the adapter is made (trusted
 * proxies, routing that matches like Express's and refuses an undecodable path as it does, text
 * labelled UTF-8 as Express labels it), how the request hook is installed, how the route pattern
 * of a request is read, and how a parsed body reaches the request Nest sees. Everything else
 * (security headers, CORS, the body parser, the exception filter, logging, metrics, Swagger) is
 * the same code on both: Nest's adapter-neutral API, or Node's own request and response.
 */
import type { AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { Request, Response } from 'express';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServiceConfig } from '@app/config';
import { ErrorCatalogue, errorEnvelope } from '@app/contract';
import { runInRequestScope, type RequestScope } from './request-scope';

/**
 * Called first thing on every request, before CORS, security headers, middleware and routing,
 * with Node's request and response and a way to read the request's route pattern once routed.
 * The rest of the request runs in the scope it returns.
 */
export type RequestHook = (request: IncomingMessage, response: ServerResponse, route: () => string | undefined) => RequestScope;

export interface HttpPlatform {
  readonly adapter: AbstractHttpAdapter;
  onRequest(hook: RequestHook): void;
}

/** Longest path parameter Fastify routes (its default, 100, answers longer ones 414; Express has no limit). */
const MAX_PARAM_LENGTH = 65_535;

/** What a router error gets should Nest's exception layer itself fail on it. */
const INTERNAL_ERROR_REPLY = JSON.stringify(errorEnvelope(ErrorCatalogue.INTERNAL.code, ErrorCatalogue.INTERNAL.message));

export function httpPlatform(config: ServiceConfig): HttpPlatform {
  // Without trusted proxies the socket's address is the client: a forged X-Forwarded-For counts
  // for nothing. Both adapters read the list with proxy-addr: addresses, CIDR ranges, `loopback`.
  const trustProxy = config.trustedProxies.length > 0 ? config.trustedProxies : false;
  return config.httpAdapter === 'fastify' ? fastifyPlatform(trustProxy) : expressPlatform(trustProxy);
}

function expressPlatform(trustProxy: string[] | false): HttpPlatform {
  const adapter = new ExpressAdapter();
  adapter.set('trust proxy', trustProxy);
  adapter.disable('x-powered-by');
  return {
    adapter,
    onRequest(hook) {
      // Express's request and response are Node's, extended; `route` is set when a route matches.
      adapter.setOnRequestHook((request: Request, response: Response, done: () => void) => {
        const scope = hook(request, response, () => expressRoute(request));
        runInRequestScope(scope, () => done());
      });
    },
  };
}

function expressRoute(request: Request): string | undefined {
  const path = (request.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : undefined;
}

type SecurityHook = Parameters<FastifyAdapter['registerSecurityHook']>[0];

/** Nest's FastifyAdapter, keeping the security headers' hook at hand for `frameworkErrors`. */
class ServiceFastifyAdapter extends FastifyAdapter {
  securityHeaders?: SecurityHook;

  override registerSecurityHook(hook: SecurityHook): void {
    this.securityHeaders = hook;
    super.registerSecurityHook(hook);
  }
}

function fastifyPlatform(trustProxy: string[] | false): HttpPlatform {
  let requestHook: RequestHook | undefined;
  const adapter: ServiceFastifyAdapter = new ServiceFastifyAdapter({
    trustProxy,
    // Node's defaults, which Express keeps; Fastify's own are 72 s and none.
    keepAliveTimeout: 5_000,
    requestTimeout: 300_000,
    // Routes match as on Express: letters in any case, with or without a trailing slash.
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    // Fastify's router refuses a path whose percent-escapes do not decode (FST_ERR_BAD_URL) before
    // any hook runs, and answers with Fastify's own body. Express's router fails on it too, but
    // hands the error to Nest. Here likewise: the request gets its id and log line (the request
    // hook), the security headers (as Nest's own `frameworkErrors` does), and the envelope from
    // Nest's exception layer, which Nest installs as Fastify's error handler. It is called
    // directly: `reply.send(error)` would reach the default handler Fastify fixed for router
    // errors before Nest set its own. (The other framework errors take the same path: a parameter
    // over MAX_PARAM_LENGTH, which no request line is long enough for; a failed async constraint,
    // which no route has.)
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      try {
        adapter.securityHeaders?.(request, reply.raw);
      } catch {
        // The request is refused either way.
      }
      const toExceptionLayer = () => {
        // A throw, synchronous or not, must not escape into Node's request listener; should the
        // exception layer fail, a bare 500 in the envelope still answers, saying nothing more.
        Promise.resolve()
          .then(() => fastify.errorHandler.call(fastify, error, request, reply))
          .catch(() => {
            if (!reply.sent) void reply.code(500).type('application/json; charset=utf-8').send(INTERNAL_ERROR_REPLY);
          });
      };
      if (requestHook) runInRequestScope(requestHook(request.raw, reply.raw, () => undefined), toExceptionLayer);
      else toExceptionLayer();
    },
  });
  const fastify = adapter.getInstance();
  // Bodies are read by JsonBodyMiddleware, on Node's request, for both adapters (it runs before
  // routing, as Nest middleware does on Express): Fastify's own parsers are replaced by one that
  // hands its result over, and a request Fastify reads no body for (GET, no Content-Length) gets
  // it too, so that Nest, validation and Passport find `request.body` as on Express.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (request: FastifyRequest, _payload: unknown, done: (error: Error | null, body?: unknown) => void) => {
    done(null, bodyOf(request.raw));
  });
  // Express names a route once it matched, before guards run; a body refused by
  // JsonBodyMiddleware never gets that far. Fastify knows the route before the body is read, so
  // the request counts as routed only once it got past the body, to label metrics alike.
  const routed = new WeakSet<FastifyRequest>();
  fastify.addHook('preValidation', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    if (request.body === undefined) request.body = bodyOf(request.raw);
    routed.add(request);
    done();
  });
  // Express's res.send says a string body is UTF-8, whatever type it was given; Fastify says so
  // only for JSON. Swagger's /docs (`text/html`), /docs-yaml and swagger-ui-init.js are such strings.
  fastify.addHook('onSend', (_request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void) => {
    if (typeof payload === 'string') {
      const type = reply.getHeader('content-type');
      if (typeof type === 'string' && !/;\s*charset=/i.test(type)) reply.header('content-type', `${type}; charset=utf-8`);
    }
    done(null, payload);
  });
  return {
    adapter,
    onRequest(hook) {
      requestHook = hook;
      adapter.setOnRequestHook((request: FastifyRequest, reply: FastifyReply, done: () => void) => {
        const scope = hook(request.raw, reply.raw, () => (routed.has(request) && !request.is404 ? request.routeOptions.url : undefined));
        runInRequestScope(scope, () => done());
      });
    },
  };
}

function bodyOf(request: IncomingMessage): unknown {
  return (request as IncomingMessage & { body?: unknown }).body;
}
