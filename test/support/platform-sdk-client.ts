/**
 * A client that calls the service the way the reference platform's web SDK does, for tests of the
 * platform routes. What it reproduces (learned from the SDK's public source, not copied from it):
 *
 * - It holds an app id and, once it has one, an access token, and sends `app_id` and
 *   `access-token` headers on **every** call: also on the login and registration routes, and also
 *   when the token it holds is expired, revoked or belongs to a deleted account.
 * - GET calls carry their parameters in the query string; "query" POSTs (unbind, device removal
 *   in the server docs) carry them in the query with an empty JSON object as the body; other POSTs
 *   send a JSON body.
 * - It reads a reply as the SDK does: any non-2xx status is a transport failure (the body's code is
 *   lost to the app); in a 2xx reply `code === 200` hands `data` on, anything else is a failure
 *   `{code, message}`.
 *
 * Like the SDK it keeps the token of its last successful login (and forgets it on `logout()`), so a
 * test reads like an app: register, log in, call, sign out, log in again with the stale token still
 * held.
 */
export type SdkOutcome<T = any> =
  | { readonly ok: true; readonly data: T }
  | { readonly ok: false; readonly code: number; readonly message: string }
  | { readonly ok: false; readonly transportStatus: number };

export class PlatformSdkClient {
  /** The token the SDK would keep in its store; sent on every call while set. */
  token: string | undefined;

  constructor(
    private readonly baseUrl: string,
    readonly appId: string,
  ) {}

  get<T = any>(path: string, query: Record<string, string | number> = {}): Promise<SdkOutcome<T>> {
    return this.send<T>('GET', withQuery(path, query));
  }

  /** A POST with a JSON body. */
  post<T = any>(path: string, body: Record<string, unknown> = {}): Promise<SdkOutcome<T>> {
    return this.send<T>('POST', path, body);
  }

  /** A POST with its parameters in the query string and `{}` as its body. */
  postQuery<T = any>(path: string, query: Record<string, string | number> = {}): Promise<SdkOutcome<T>> {
    return this.send<T>('POST', withQuery(path, query), {});
  }

  /** `/token/user` or `/token/id` etc.: on success the client keeps the new token. */
  async login(path: '/token/user' | '/token/id' | '/token/login', body: Record<string, unknown>): Promise<SdkOutcome> {
    const outcome = await this.post(path, body);
    if (outcome.ok) this.token = outcome.data.token;
    return outcome;
  }

  /** What the SDK's logout does locally: it forgets nothing on the server and keeps no token. */
  logout(): void {
    this.token = undefined;
  }

  private async send<T>(method: string, path: string, body?: Record<string, unknown>): Promise<SdkOutcome<T>> {
    const headers: Record<string, string> = { app_id: this.appId };
    if (this.token) headers['access-token'] = this.token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    if (response.status < 200 || response.status > 299) return { ok: false, transportStatus: response.status };
    const reply = JSON.parse(text) as { code: number; message: string; data: T };
    if (reply.code === 200) return { ok: true, data: reply.data };
    return { ok: false, code: reply.code, message: reply.message };
  }
}

function withQuery(path: string, query: Record<string, string | number>): string {
  const entries = Object.entries(query).map(([key, value]): [string, string] => [key, String(value)]);
  return entries.length === 0 ? path : `${path}?${new URLSearchParams(entries).toString()}`;
}
