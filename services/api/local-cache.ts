// In-process L1 in front of Redis: a byte-bounded LRU of serialized responses. Keys carry the
// dataset version, so an entry can never be stale, only evicted; no cross-pod invalidation needed.
// A hit costs a Map lookup instead of a Redis round trip and a 40 KB copy through the socket.
export interface LocalEntry {
  body: Buffer;
  expiresAt: number;
}

export class LocalCache {
  private readonly map = new Map<string, LocalEntry>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): Buffer | null {
    const e = this.map.get(key);
    if (!e) return null;
    if (e.expiresAt <= this.now()) {
      this.delete(key, e);
      return null;
    }
    // Refresh recency: Map keeps insertion order, so re-inserting moves it to the young end.
    this.map.delete(key);
    this.map.set(key, e);
    return e.body;
  }

  set(key: string, body: Buffer, ttlSeconds: number): void {
    if (body.length > this.maxBytes / 4) return; // one huge answer must not flush everything else
    const old = this.map.get(key);
    if (old) this.delete(key, old);
    this.map.set(key, { body, expiresAt: this.now() + ttlSeconds * 1000 });
    this.bytes += body.length;
    for (const [k, e] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(k, e);
    }
  }

  size(): { entries: number; bytes: number } {
    return { entries: this.map.size, bytes: this.bytes };
  }

  private delete(key: string, e: LocalEntry): void {
    this.map.delete(key);
    this.bytes -= e.body.length;
  }
}
