/**
 * Concurrent look-ups answered by one statement (the DataLoader pattern). On a busy service most
 * of a one-row statement's cost is the round trip itself: the driver's per-query work, its write
 * to the socket, the promise machinery around it. Calls that arrive within one turn of the event
 * loop share that cost: the first call schedules a flush on `setImmediate`, later calls of the
 * same turn join its batch, and the flush runs one look-up for all of them. A batch that reaches
 * its bound is flushed at once, and the next call starts a new one.
 *
 * So a call waits for nothing but the end of its turn (no timer: a lone call is not delayed), and
 * costs at most one round trip. A failed look-up rejects every call of its batch with its error,
 * and no call of another batch.
 */

/** Answers keys in their order, one answer per key. */
export type LookUp<Key, Answer> = (keys: readonly Key[]) => Promise<readonly Answer[]>;

interface Waiter<Key, Answer> {
  readonly key: Key;
  readonly resolve: (answer: Answer) => void;
  readonly reject: (error: unknown) => void;
}

/** Enough to share a round trip among every request of a busy turn, few enough to keep one statement small. */
export const DEFAULT_BATCH_BOUND = 256;

export class BatchedLookup<Key, Answer> {
  /** The batch now collecting calls: empty until the first call of a turn. */
  private collecting: Waiter<Key, Answer>[] = [];

  constructor(
    private readonly lookUp: LookUp<Key, Answer>,
    private readonly bound = DEFAULT_BATCH_BOUND,
  ) {
    if (!Number.isInteger(bound) || bound < 1) throw new Error(`A batch bound must be a positive integer, not ${bound}`);
  }

  /** The answer for `key`, looked up together with the other calls of this turn. */
  load(key: Key): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const batch = this.collecting;
      batch.push({ key, resolve, reject });
      if (batch.length >= this.bound) this.flush(batch);
      else if (batch.length === 1) setImmediate(() => this.flush(batch));
    });
  }

  /** Sends `batch`, unless it was sent already (it reached the bound before its turn ended). */
  private flush(batch: Waiter<Key, Answer>[]): void {
    if (this.collecting !== batch) return;
    this.collecting = [];
    void this.answer(batch);
  }

  private async answer(batch: readonly Waiter<Key, Answer>[]): Promise<void> {
    let answers: readonly Answer[];
    try {
      answers = await this.lookUp(batch.map((waiter) => waiter.key));
      if (answers.length !== batch.length) throw new Error(`A batched look-up answered ${answers.length} of ${batch.length} keys`);
    } catch (error) {
      for (const waiter of batch) waiter.reject(error);
      return;
    }
    batch.forEach((waiter, index) => waiter.resolve(answers[index]));
  }
}
