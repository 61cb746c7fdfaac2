/**
 * The batching rules on their own, with a look-up that records its calls: which calls share an
 * execution, in what order their answers come back, and whom a failure reaches. The statement
 * that uses it is checked on a real database by test/e2e/token-verification.e2e-spec.ts.
 */
import { BatchedLookup } from './batched-lookup';

/** The end of the current turn of the event loop: every setImmediate queued before it has run. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A look-up that answers each key doubled and records the keys of each execution. */
function doubling(bound?: number) {
  const executions: number[][] = [];
  const lookup = new BatchedLookup<number, number>(async (keys) => {
    executions.push([...keys]);
    return keys.map((key) => key * 2);
  }, bound);
  return { lookup, executions };
}

describe('BatchedLookup', () => {
  it('answers the calls of one turn with one execution, each call its own answer, in order', async () => {
    const { lookup, executions } = doubling();
    const answers = await Promise.all([lookup.load(1), lookup.load(2), lookup.load(3)]);
    expect(answers).toEqual([2, 4, 6]);
    expect(executions).toEqual([[1, 2, 3]]);
  });

  it('starts a new batch in a later turn', async () => {
    const { lookup, executions } = doubling();
    const first = lookup.load(1);
    await nextTurn();
    const second = lookup.load(2);
    expect(await Promise.all([first, second])).toEqual([2, 4]);
    expect(executions).toEqual([[1], [2]]);
  });

  it('runs a lone call at the end of its turn, without waiting for company', async () => {
    const { lookup, executions } = doubling();
    const answer = lookup.load(7);
    expect(executions).toEqual([]);
    await nextTurn();
    expect(executions).toEqual([[7]]);
    expect(await answer).toBe(14);
  });

  it('sends a batch that reaches the bound at once, and collects the next calls in a new one', async () => {
    const { lookup, executions } = doubling(2);
    const calls = [lookup.load(1), lookup.load(2)];
    expect(executions).toEqual([[1, 2]]);
    calls.push(lookup.load(3), lookup.load(4), lookup.load(5));
    expect(executions).toEqual([[1, 2], [3, 4]]);
    expect(await Promise.all(calls)).toEqual([2, 4, 6, 8, 10]);
    expect(executions).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('rejects every call of a failed batch with its error, and no call of another batch', async () => {
    const outage = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    let fail = true;
    const lookup = new BatchedLookup<string, string>(async (keys) => {
      if (fail) throw outage;
      return keys.map((key) => key.toUpperCase());
    });
    const failed = [lookup.load('a'), lookup.load('b')].map((call) => call.then(() => 'answered', (error: unknown) => error));
    await nextTurn();
    fail = false;
    const later = lookup.load('c');
    const errors = await Promise.all(failed);
    expect(errors).toHaveLength(2);
    for (const error of errors) expect(error).toBe(outage);
    expect(await later).toBe('C');
  });

  it('rejects a batch whose look-up answers another number of keys than it was given', async () => {
    const lookup = new BatchedLookup<number, number>(async (keys) => keys.slice(1));
    const calls = [lookup.load(1), lookup.load(2)];
    for (const call of calls) await expect(call).rejects.toThrow('A batched look-up answered 1 of 2 keys');
  });

  it('rejects a batch whose look-up throws before it returns a promise', async () => {
    const lookup = new BatchedLookup<number, number>(() => {
      throw new Error('not connected');
    });
    await expect(lookup.load(1)).rejects.toThrow('not connected');
  });

  it('refuses a bound that is not a positive integer', () => {
    for (const bound of [0, -1, 1.5, NaN]) expect(() => new BatchedLookup<number, number>(async (keys) => keys, bound)).toThrow(/positive integer/);
  });
});
