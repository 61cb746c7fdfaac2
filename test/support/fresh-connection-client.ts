/**
 * HTTP requests that each open their own TCP connection (no keep-alive pool), so that every
 * request's fate is its own: a refused or reset connection is reported as that request's outcome
 * (its network error code) instead of being retried or hidden by a shared connection pool.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';

export interface Outcome {
  /** `Date.now()` when the request was started. */
  startedAt: number;
  /** Milliseconds from start to the full reply (or to the error). */
  ms: number;
  /** The HTTP status; undefined when no reply came. */
  status?: number;
  /** The parsed JSON reply (undefined when it was not JSON). */
  body?: any;
  /** The network error code (ECONNREFUSED, ECONNRESET, TIMEOUT, ...) when no reply came. */
  error?: string;
}

export interface FreshRequest {
  /** Resolves once the whole request has been written to its connection. */
  written: Promise<void>;
  outcome: Promise<Outcome>;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** The request is abandoned with error TIMEOUT after this long (default 30 s). */
  timeoutMs?: number;
}

export function startRequest(baseUrl: string, method: string, path: string, options: RequestOptions = {}): FreshRequest {
  const startedAt = Date.now();
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  let markWritten: () => void = () => undefined;
  const written = new Promise<void>((resolve) => (markWritten = resolve));
  const outcome = new Promise<Outcome>((resolve) => {
    let settled = false;
    const settle = (result: Omit<Outcome, 'startedAt' | 'ms'>) => {
      if (settled) return;
      settled = true;
      markWritten(); // a request that failed before being written must not hold up its waiter
      resolve({ startedAt, ms: Date.now() - startedAt, ...result });
    };
    // agent: false gives the request a connection of its own, closed after the reply.
    const req = httpRequest(`${baseUrl}${path}`, { method, headers, agent: false });
    req.setTimeout(options.timeoutMs ?? 30_000, () => {
      settle({ error: 'TIMEOUT' });
      req.destroy();
    });
    req.on('finish', markWritten);
    req.on('error', (error: NodeJS.ErrnoException) => settle({ error: error.code ?? error.message }));
    req.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('error', (error: NodeJS.ErrnoException) => settle({ error: error.code ?? error.message }));
      // 'aborted': the server closed the connection in the middle of the reply.
      response.on('aborted', () => settle({ error: 'ABORTED' }));
      response.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        settle({ status: response.statusCode, body });
      });
    });
    req.end(payload);
  });
  return { written, outcome };
}

export function send(baseUrl: string, method: string, path: string, options: RequestOptions = {}): Promise<Outcome> {
  return startRequest(baseUrl, method, path, options).outcome;
}

/** Opens a bare TCP connection to the service: 'connected', or the error code (ECONNREFUSED, ...). */
export function tryConnect(baseUrl: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve('TIMEOUT');
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}
