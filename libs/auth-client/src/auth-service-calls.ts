/**
 * The auth service's HTTP endpoints as libs/auth-client calls them: every call bounded by a
 * timeout (a hung service must not hold a poll, or a request waiting on introspection, forever),
 * replies read in the service's `{code, message, data}` envelope, any other answer an Error that
 * says what came back. Credentials go in headers and never into an error's message.
 */
import { SUCCESS_CODE, type Envelope } from '@app/contract';

export interface AuthServiceCallsOptions {
  baseUrl: string;
  timeoutMs: number;
  fetch: typeof fetch;
}

/** A bare HTTP reply: its status, one header and its parsed JSON body. */
export interface RawReply {
  status: number;
  cacheControl: string | null;
  body: unknown;
}

export class AuthServiceCalls {
  constructor(private readonly options: AuthServiceCallsOptions) {}

  /** GET without the envelope (the JWKS is a bare document); throws unless HTTP 2xx with JSON. */
  async getRaw(path: string): Promise<RawReply> {
    const response = await this.send(path, {});
    if (!response.ok) throw new Error(`GET ${path} answered HTTP ${response.status}`);
    return { status: response.status, cacheControl: response.headers.get('cache-control'), body: await this.json(path, response) };
  }

  /** A call answered in the envelope: its `data`, or an Error naming the code and message it answered instead. */
  async call<T>(path: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: unknown } = {}): Promise<T> {
    const response = await this.send(path, {
      method: init.method ?? 'GET',
      headers: { ...init.headers, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const envelope = (await this.json(path, response)) as Partial<Envelope<T>> | null;
    if (envelope?.code !== SUCCESS_CODE || envelope.data === undefined || envelope.data === null) {
      throw new Error(`${init.method ?? 'GET'} ${path} answered HTTP ${response.status}, code ${envelope?.code}: ${envelope?.message ?? 'no message'}`);
    }
    return envelope.data;
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    try {
      return await this.options.fetch(`${this.options.baseUrl}${path}`, { ...init, signal: AbortSignal.timeout(this.options.timeoutMs) });
    } catch (error) {
      // fetch's own message is "fetch failed"; the cause says what (refused, timed out...).
      const cause = (error as Error & { cause?: Error }).cause;
      throw new Error(`${init.method ?? 'GET'} ${path} failed: ${cause?.message ?? (error as Error).message}`, { cause: error });
    }
  }

  private async json(path: string, response: Response): Promise<unknown> {
    try {
      return await response.json();
    } catch {
      throw new Error(`${path} answered HTTP ${response.status} without JSON`);
    }
  }
}
