/**
 * A queue shared out by client: each client's items wait in arrival order, and the clients take
 * turns, so an item waits behind a few clients' next items, not behind all of one busy client's.
 * When room must be made, the newest item of the client with the most waiting goes: one client
 * sending faster than the items are served cannot hold the queue against everyone else. With a
 * single client it is a plain queue, first come first served.
 */
export class FairShareQueue<T> {
  /**
   * Waiting items by client, each in arrival order. The map's order is the clients' turns: a client
   * served goes to the back (delete and re-insert), one with nothing left waiting leaves.
   */
  private readonly byClient = new Map<string, T[]>();
  private count = 0;

  /** Items waiting, of every client. */
  get size(): number {
    return this.count;
  }

  push(client: string, item: T): void {
    const waiting = this.byClient.get(client);
    if (waiting) waiting.push(item);
    else this.byClient.set(client, [item]);
    this.count++;
  }

  /** The next item: the first of the client whose turn it is, which then goes to the back. */
  shift(): T | undefined {
    for (const [client, waiting] of this.byClient) {
      const item = waiting.shift()!;
      this.byClient.delete(client);
      if (waiting.length > 0) this.byClient.set(client, waiting);
      this.count--;
      return item;
    }
    return undefined;
  }

  /**
   * For an item of `client` that finds no room: takes out and returns the newest item of the client
   * with the most waiting, when that is more than `client` would have with its new one; otherwise
   * (`client` already has as many as anyone) nothing, and the newcomer is the one to turn away.
   */
  evictFor(client: string): T | undefined {
    let busiest: T[] | undefined;
    for (const waiting of this.byClient.values()) if (!busiest || waiting.length > busiest.length) busiest = waiting;
    const own = this.byClient.get(client)?.length ?? 0;
    if (!busiest || busiest.length <= own + 1) return undefined;
    this.count--;
    return busiest.pop(); // never empties it: it holds more than one
  }

  /** Takes out and returns the items `test` picks; every client keeps its turn. */
  removeWhere(test: (item: T) => boolean): T[] {
    const removed: T[] = [];
    for (const [client, waiting] of this.byClient) {
      const kept: T[] = [];
      for (const item of waiting) (test(item) ? removed : kept).push(item);
      if (kept.length === 0) this.byClient.delete(client);
      else if (kept.length < waiting.length) this.byClient.set(client, kept); // the same key: its turn is kept
    }
    this.count -= removed.length;
    return removed;
  }

  /** Takes out and returns every item. */
  clear(): T[] {
    const all = [...this.byClient.values()].flat();
    this.byClient.clear();
    this.count = 0;
    return all;
  }
}
