import { describe, expect, it } from 'vitest';
import { createLruCache } from '../../src/registry/lru-cache.js';

describe('createLruCache', () => {
  it('never holds more than its capacity, and evicts the oldest entry first', () => {
    const cache = createLruCache<number>(3);
    for (const [i, key] of ['a', 'b', 'c', 'd'].entries()) cache.set(key, i);
    expect(cache.size).toBe(3);
    expect(cache.peek('a')).toBeUndefined();
    expect([cache.get('b'), cache.get('c'), cache.get('d')]).toEqual([1, 2, 3]);
  });

  it('keeps an entry that is used while others come and go', () => {
    const cache = createLruCache<number>(100);
    cache.set('hot', 0);
    for (let i = 0; i < 10_000; i += 1) {
      cache.set(`cold-${i}`, i);
      expect(cache.get('hot')).toBe(0);
    }
    expect(cache.size).toBe(100);
    expect(cache.peek('cold-0')).toBeUndefined();
  });

  it('peek does not count as a use', () => {
    const cache = createLruCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.peek('a');
    cache.set('c', 3);
    expect(cache.peek('a')).toBeUndefined();
  });

  it('refuses a capacity that is not a positive whole number', () => {
    expect(() => createLruCache(0)).toThrow(RangeError);
  });
});
