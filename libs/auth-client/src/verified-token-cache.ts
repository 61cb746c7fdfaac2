/**
 * Tokens already verified, so that the next request of a session costs a hash-map look-up instead
 * of an RSA verification: a service sees the same token on every request of a session.
 *
 * Bounded (least recently used first out), and never fed with a refusal. An entry matches only
 * the very same token, character for character; it is found by the token's last KEY_CHARS
 * characters (its signature's, ~190 random bits) so that a look-up hashes 32 characters, not 600.
 * Two tokens ending alike are told apart by the comparison, and only a token that verified is ever
 * stored. An entry expires with its token, and is dropped when its token is revoked or when the
 * key that signed it leaves the JWKS (the verifier's calls).
 */
import type { VerifiedPrincipal } from './token-verifier';

export interface CachedVerdict {
  readonly token: string;
  readonly principal: VerifiedPrincipal;
  /** Until when (ms since the epoch) the token is accepted: its `exp` plus the clock tolerance. */
  readonly validUntilMs: number;
}

const KEY_CHARS = 32;

export class VerifiedTokenCache {
  private readonly entries = new Map<string, CachedVerdict>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The verdict on exactly this token, made the most recently used; undefined when there is none. */
  get(token: string): CachedVerdict | undefined {
    if (this.capacity === 0) return undefined;
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  set(verdict: CachedVerdict): void {
    if (this.capacity === 0) return;
    const key = keyOf(verdict.token);
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, verdict);
  }

  delete(token: string): void {
    const key = keyOf(token);
    if (this.entries.get(key)?.token === token) this.entries.delete(key);
  }

  /** Drops the verdicts on tokens of these jtis (revoked). */
  evictJtis(jtis: ReadonlySet<string>): void {
    for (const [key, entry] of this.entries) if (jtis.has(entry.principal.jti)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

function keyOf(token: string): string {
  return token.length > KEY_CHARS ? token.slice(token.length - KEY_CHARS) : token;
}
