/**
 * The apps recently read, kept for a few seconds since every request reads its app. Only apps that
 * exist are kept: an unknown `app_id` is asked of the database each time, so ids made up by a
 * client cannot fill memory, and an app created elsewhere (the CLI, another instance) is found at
 * once. At most `capacity` apps are kept; beyond, the least recently used goes.
 */
import type { AppEntity } from './app.entity';

export class AppCache {
  /** In order of last use: a Map iterates in insertion order, and a hit is re-inserted. */
  private readonly entries = new Map<string, { app: AppEntity; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(id: string): AppEntity | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    if (entry.until <= this.now()) return undefined;
    this.entries.set(id, entry);
    return entry.app;
  }

  set(app: AppEntity): void {
    this.entries.delete(app.id);
    this.entries.set(app.id, { app, until: this.now() + this.ttlMs });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}
