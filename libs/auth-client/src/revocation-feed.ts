/**
 * Follows the auth service's revocation log of each app this service accepts tokens of
 * (`GET /token/revocations`, with that app's verifier token), every `revocationPollMs`: the jtis
 * revoked since the last poll, kept until their tokens expire.
 *
 * It also knows how current that is: an app's log counts as read at the moment its last poll that
 * reached the end of the log began, and `stalenessMs` is the time since. Past
 * `maxRevocationStalenessMs` the verifier stops accepting the app's tokens (token-verifier.ts):
 * without the log it cannot know that a token was not revoked meanwhile.
 *
 * Polls never overlap: the next starts `pollMs` after the previous ended, and each call is bounded
 * by the request timeout, so a hung service shows as staleness, not as piled-up requests.
 */
import { Logger } from '@nestjs/common';
import type { AuthServiceCalls } from './auth-service-calls';

/** An app whose tokens this service accepts, and a verifier (or admin) token of it. */
export interface AppCredentials {
  appId: string;
  /** `npm run cli -- admin-token create --app APP_ID --scope verifier`: it reads the app's revocation log and introspects tokens, nothing else. */
  token: string;
}

interface RevocationPage {
  cursor: number;
  jtis: string[];
  expires?: number[];
}

/** Where the log of one app has been read up to. */
interface AppLog {
  readonly credentials: AppCredentials;
  cursor: number;
  /** When the last poll that reached the end of the log began (ms since the epoch); 0: never. */
  readAt: number;
  failing: boolean;
}

/** A full page means "call again at once". */
const PAGE_SIZE = 1000;
/** A jti the service gave no expiry for is kept this long (the longest token lifetime the service allows). */
const DEFAULT_KEEP_SECONDS = 365 * 24 * 3600;

export class RevocationFeed {
  private readonly logger = new Logger('AuthClient');
  private readonly logs = new Map<string, AppLog>();
  /** Revoked jti → its token's expiry (s), so the set can drop entries that no longer matter. */
  private readonly revoked = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly calls: AuthServiceCalls,
    apps: readonly AppCredentials[],
    private readonly pollMs: number,
    /** The clock skew the verifier tolerates on `exp`: a revocation is kept that long past its token's expiry. */
    private readonly toleranceSeconds: number,
    /** Called with the jtis each poll brought, before anything else can ask about them. */
    private readonly onRevoked: (jtis: ReadonlySet<string>) => void,
  ) {
    for (const credentials of apps) this.logs.set(credentials.appId, { credentials, cursor: 0, readAt: 0, failing: false });
  }

  /** Whether tokens of this app are accepted at all. */
  accepts(appId: string): boolean {
    return this.logs.has(appId);
  }

  credentialsOf(appId: string): AppCredentials | undefined {
    return this.logs.get(appId)?.credentials;
  }

  isRevoked(jti: string): boolean {
    return this.revoked.has(jti);
  }

  /** How long ago the app's log was known complete (Infinity: never); `now` in ms. */
  stalenessMs(appId: string, now = Date.now()): number {
    const readAt = this.logs.get(appId)?.readAt ?? 0;
    return readAt === 0 ? Infinity : now - readAt;
  }

  /** The stalest app's staleness: what a health check reports. */
  maxStalenessMs(now = Date.now()): number {
    let max = 0;
    for (const appId of this.logs.keys()) max = Math.max(max, this.stalenessMs(appId, now));
    return max;
  }

  /** Reads every app's log now, then keeps polling until `stop()`. A failure is logged, not thrown: it shows as staleness. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.pollAndSchedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Reads what every app's log has after its cursor (several pages when many); throws the first failure after trying all. */
  async sync(): Promise<void> {
    const outcomes = await Promise.allSettled([...this.logs.values()].map((log) => this.read(log)));
    this.dropExpired();
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async pollAndSchedule(): Promise<void> {
    await this.sync().catch(() => undefined); // each app's failure is logged by read()
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.pollAndSchedule(), this.pollMs);
    this.timer.unref();
  }

  private async read(log: AppLog): Promise<void> {
    const began = Date.now();
    const { appId, token } = log.credentials;
    try {
      for (;;) {
        const page = await this.calls.call<RevocationPage>(`/token/revocations?since=${log.cursor}`, { headers: { app_id: appId, 'access-token': token } });
        const fresh = new Set<string>();
        page.jtis.forEach((jti, i) => {
          if (!this.revoked.has(jti)) fresh.add(jti);
          this.revoked.set(jti, page.expires?.[i] ?? began / 1000 + DEFAULT_KEEP_SECONDS);
        });
        if (fresh.size > 0) this.onRevoked(fresh);
        log.cursor = page.cursor;
        if (page.jtis.length < PAGE_SIZE) break;
      }
    } catch (error) {
      if (!log.failing) this.logger.warn(`Could not read the revocation log of app ${appId}: ${(error as Error).message}`);
      log.failing = true;
      throw error;
    }
    log.readAt = began;
    if (log.failing) this.logger.log(`The revocation log of app ${appId} answers again`);
    log.failing = false;
  }

  private dropExpired(): void {
    const now = Date.now() / 1000 - this.toleranceSeconds;
    for (const [jti, expiresAt] of this.revoked) if (expiresAt < now) this.revoked.delete(jti);
  }
}
