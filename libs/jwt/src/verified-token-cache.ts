/**
 * Tokens already verified, so that the next request carrying one costs a hash-map look-up instead
 * of an RSA verification: a service sees the same token on every request of a session. Used by
 * libs/auth-client (the principal) and the auth service's AccessTokenVerifier (the claims).
 *
 * Bounded (least recently used first out), and only ever fed with tokens that verified. An entry
 * matches only the very same token, character for character; it is found by the token's last
 * KEY_CHARS characters (its signature's, ~190 random bits), so that a look-up hashes 32
 * characters, not 600, and two tokens ending alike are told apart by the comparison. What makes an
 * entry stale (the token's expiry, its revocation, its key leaving) is for its owner to check or
 * evict: this holds verdicts, it does not judge them.
 */
const KEY_CHARS = 32;

export interface CachedToken {
  readonly token: string;
}

export class VerifiedTokenCache<Entry extends CachedToken> {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The entry of exactly this token, made the most recently used; undefined when there is none. */
  get(token: string): Entry | undefined {
    if (this.capacity === 0) return undefined;
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  /** Remembers a token that verified, the least recently used one leaving when full. */
  set(entry: Entry): void {
    if (this.capacity === 0) return;
    const key = keyOf(entry.token);
    if (!this.entries.delete(key) && this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, entry);
  }

  delete(token: string): void {
    const key = keyOf(token);
    if (this.entries.get(key)?.token === token) this.entries.delete(key);
  }

  /** Drops every entry the predicate picks (a revocation, a key that left). */
  evict(picked: (entry: Entry) => boolean): void {
    for (const [key, entry] of this.entries) if (picked(entry)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

function keyOf(token: string): string {
  return token.length > KEY_CHARS ? token.slice(token.length - KEY_CHARS) : token;
}
