/**
 * Caps how many password hashes run at once. argon2 runs on libuv's pool (4 threads by default);
 * on a 2-core machine four 19 MiB hashes at once contend for the cores and the cache, and starve
 * the event loop that parses requests and signs tokens. One hash per core keeps every core busy
 * hashing while leaving the main thread room to run; requests beyond that wait in order.
 */
export class HashingSlots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active < this.size) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve)); // the slot is handed over
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
