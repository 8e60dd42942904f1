import { describe, expect, it } from '@jest/globals';
import { LocalCache } from '../../services/api/local-cache.js';

describe('LocalCache (in-process L1)', () => {
  const buf = (n: number) => Buffer.alloc(n, 'x');

  it('evicts the least recently used entries to stay within its byte budget', () => {
    const c = new LocalCache(1000);
    c.set('a', buf(200), 60);
    c.set('b', buf(200), 60);
    c.set('c', buf(200), 60);
    expect(c.get('a')).not.toBeNull(); // a is now the most recent
    c.set('d', buf(200), 60);
    c.set('e', buf(200), 60); // 1000 bytes: fits
    c.set('f', buf(200), 60); // over: b (least recent) goes
    expect(c.get('b')).toBeNull();
    expect(c.get('a')).not.toBeNull();
    expect(c.size()).toEqual({ entries: 5, bytes: 1000 });
  });

  it('expires entries after their TTL', () => {
    let now = 0;
    const c = new LocalCache(1000, () => now);
    c.set('a', buf(10), 5);
    now = 4999;
    expect(c.get('a')).not.toBeNull();
    now = 5000;
    expect(c.get('a')).toBeNull();
    expect(c.size().bytes).toBe(0);
  });

  it('never lets one huge answer flush the rest, and replaces an entry without leaking bytes', () => {
    const c = new LocalCache(1000);
    c.set('a', buf(100), 60);
    c.set('huge', buf(600), 60);
    expect(c.get('huge')).toBeNull();
    c.set('a', buf(150), 60);
    expect(c.size()).toEqual({ entries: 1, bytes: 150 });
  });
});
