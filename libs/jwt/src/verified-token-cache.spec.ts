/** VerifiedTokenCache on its own: exact tokens only, bounded, least recently used first out. */
import { VerifiedTokenCache } from './verified-token-cache';

const SIGNATURE_TAIL = 'x'.repeat(32);
const entry = (token: string, n = 0) => ({ token, n });

describe('VerifiedTokenCache', () => {
  it('answers only the very token it was given, even when another ends alike', () => {
    const cache = new VerifiedTokenCache<{ token: string; n: number }>(10);
    cache.set(entry(`a.b.${SIGNATURE_TAIL}`, 1));
    expect(cache.get(`a.b.${SIGNATURE_TAIL}`)).toEqual({ token: `a.b.${SIGNATURE_TAIL}`, n: 1 });
    expect(cache.get(`a.c.${SIGNATURE_TAIL}`)).toBeUndefined();
    expect(cache.get(`a.b.${SIGNATURE_TAIL}`.slice(1))).toBeUndefined();
    // A token ending alike takes the place (only tokens that verified are ever set).
    cache.set(entry(`a.c.${SIGNATURE_TAIL}`, 2));
    expect(cache.get(`a.b.${SIGNATURE_TAIL}`)).toBeUndefined();
    expect(cache.get(`a.c.${SIGNATURE_TAIL}`)?.n).toBe(2);
    expect(cache.size).toBe(1);
  });

  it('keeps at most its capacity, the least recently used leaving first', () => {
    const cache = new VerifiedTokenCache<{ token: string; n: number }>(3);
    const tokens = ['one', 'two', 'three', 'four'].map((name) => `${name}.${SIGNATURE_TAIL}${name}`);
    for (const token of tokens.slice(0, 3)) cache.set(entry(token));
    expect(cache.get(tokens[0])).toBeDefined(); // now the most recently used
    cache.set(entry(tokens[3]));
    expect(tokens.map((token) => cache.get(token) !== undefined)).toEqual([true, false, true, true]);
    cache.set(entry(tokens[0], 9)); // replacing an entry evicts nothing
    expect(cache.size).toBe(3);
    expect(cache.get(tokens[0])?.n).toBe(9);
  });

  it('drops what it is told to, and holds nothing at capacity 0', () => {
    const cache = new VerifiedTokenCache<{ token: string; n: number }>(10);
    for (let n = 0; n < 6; n++) cache.set(entry(`t${n}`, n));
    cache.evict((cached) => cached.n % 2 === 0);
    cache.delete('t1');
    expect([0, 1, 2, 3, 4, 5].filter((n) => cache.get(`t${n}`) !== undefined)).toEqual([3, 5]);
    cache.clear();
    expect(cache.size).toBe(0);
    const none = new VerifiedTokenCache<{ token: string; n: number }>(0);
    none.set(entry('t'));
    expect(none.get('t')).toBeUndefined();
  });
});
