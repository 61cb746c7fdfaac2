/**
 * The hashing queue's rules on their own: turns by client, which item makes room when the queue is
 * full, and taking out hung-up items without losing a client's turn. (hashing-pool.spec.ts checks
 * the same rules through real workers.)
 */
import { FairShareQueue } from './fair-share-queue';

/** Items named by their client and their rank among that client's, e.g. `a2`. */
function queueOf(...items: string[]): FairShareQueue<string> {
  const queue = new FairShareQueue<string>();
  for (const item of items) queue.push(item.replace(/\d+$/, ''), item);
  return queue;
}

function drain(queue: FairShareQueue<string>): string[] {
  const served: string[] = [];
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) served.push(item);
  return served;
}

describe('FairShareQueue', () => {
  it('is first come first served while every item is of one client', () => {
    expect(drain(queueOf('p1', 'p2', 'p3'))).toEqual(['p1', 'p2', 'p3']);
  });

  it("takes its clients in turn: each client's items in order, but none waits behind all of another's", () => {
    expect(drain(queueOf('a1', 'a2', 'a3', 'b1', 'c1'))).toEqual(['a1', 'b1', 'c1', 'a2', 'a3']);
  });

  it('sends a client just served to the back of the turns, behind a client that arrives meanwhile', () => {
    const queue = queueOf('a1', 'a2', 'b1');
    expect(queue.shift()).toBe('a1');
    queue.push('c', 'c1');
    expect(drain(queue)).toEqual(['b1', 'a2', 'c1']);
  });

  it("makes room for a client with fewer items waiting by taking out the busiest client's newest", () => {
    const queue = queueOf('a1', 'a2', 'a3');
    expect(queue.evictFor('b')).toBe('a3');
    queue.push('b', 'b1');
    expect(queue.evictFor('b')).toBeUndefined(); // b would then have as many as a: the newcomer is turned away
    expect(queue.evictFor('c')).toBe('a2'); // a still has the most
    queue.push('c', 'c1');
    expect(queue.size).toBe(3);
    expect(drain(queue)).toEqual(['a1', 'b1', 'c1']);
  });

  it('turns the newcomer away when all items are of its own client', () => {
    const queue = queueOf('p1', 'p2');
    expect(queue.evictFor('p')).toBeUndefined();
    expect(queue.size).toBe(2);
  });

  it('takes out the items a test picks, every client keeping its turn, and counts what is left', () => {
    const gone = new Set(['a1', 'c1']);
    const queue = queueOf('a1', 'a2', 'b1', 'c1');
    expect(queue.removeWhere((item) => gone.has(item))).toEqual(['a1', 'c1']);
    expect(queue.size).toBe(2);
    expect(drain(queue)).toEqual(['a2', 'b1']); // a's turn is still first
  });

  it('hands back every item when cleared, and is empty then', () => {
    const queue = queueOf('a1', 'b1', 'a2');
    expect(queue.clear().sort()).toEqual(['a1', 'a2', 'b1']);
    expect(queue.size).toBe(0);
    expect(queue.shift()).toBeUndefined();
  });
});
