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

export interface RawReply {
  status: number;
  headers: Record<string, string>;
  /** The parsed JSON body (undefined when it was not JSON). */
  body?: any;
  text: string;
}

/**
 * One TCP connection kept open across requests, written to by hand: a request can be sent while
 * an earlier one is still in flight on it (as a keep-alive client or a pipelining one does).
 * `replies` resolves with every reply read once the server closes the connection.
 */
export interface HeldConnection {
  send(method: string, path: string, options?: RequestOptions): Promise<void>;
  replies: Promise<RawReply[]>;
}

export async function holdConnection(baseUrl: string): Promise<HeldConnection> {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const replies = new Promise<RawReply[]>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', () => {
      try {
        resolve(parseReplies(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
  });
  return {
    send(method, path, options = {}) {
      const payload = options.body === undefined ? '' : JSON.stringify(options.body);
      const headers = { host: `${hostname}:${port}`, ...(options.headers ?? {}), ...(payload ? { 'content-type': 'application/json' } : {}), 'content-length': String(Buffer.byteLength(payload)) };
      const head = `${method} ${path} HTTP/1.1\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
      return new Promise((resolve, reject) => socket.write(head + payload, (error) => (error ? reject(error) : resolve())));
    },
    replies,
  };
}

/** HTTP/1.1 replies one after another, each with a Content-Length (what the service sends). */
function parseReplies(data: Buffer): RawReply[] {
  const replies: RawReply[] = [];
  let at = 0;
  while (at < data.length) {
    const headEnd = data.indexOf('\r\n\r\n', at);
    if (headEnd < 0) throw new Error(`a reply was cut off in its head: ${data.subarray(at).toString('latin1')}`);
    const [statusLine, ...lines] = data.subarray(at, headEnd).toString('latin1').split('\r\n');
    const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length']);
    if (!Number.isInteger(length)) throw new Error(`a reply without Content-Length: ${statusLine}`);
    const text = data.subarray(headEnd + 4, headEnd + 4 + length).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    replies.push({ status: Number(statusLine.split(' ')[1]), headers, body, text });
    at = headEnd + 4 + length;
  }
  return replies;
}
