// A client-go style work queue: a key is queued at most once however often it is added (dedupe),
// never handed to two workers at once (a key added while processing is re-queued on done()), and
// failed keys come back after exponential backoff with jitter.
import { fullJitterDelay, type BackoffPolicy } from '../../services/core/backoff.js';

export interface WorkQueueMetrics {
  onAdd?(): void;
  onRetry?(): void;
  onDepth?(depth: number): void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: ((key: string | null) => void)[] = [];
  private shuttingDown = false;

  constructor(
    private readonly backoff: BackoffPolicy = { baseDelayMs: 5, maxDelayMs: 300_000 },
    private readonly metrics: WorkQueueMetrics = {},
    private readonly random: () => number = Math.random,
  ) {}

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.metrics.onAdd?.();
    this.dirty.add(key);
    if (!this.processing.has(key)) this.handOut(key);
  }

  /** To a waiting worker if there is one, else to the back of the queue. */
  private handOut(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else {
      this.queue.push(key);
      this.metrics.onDepth?.(this.queue.length);
    }
  }

  /** Adds the key after a delay; an earlier pending delay for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  /** Re-adds a failed key after backoff: base * 2^failures, capped, with full jitter. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.metrics.onRetry?.();
    // Never 0: a key that keeps failing must not spin.
    const delay = Math.max(this.backoff.baseDelayMs, fullJitterDelay(n, this.backoff, this.random));
    this.addAfter(key, delay);
    return delay;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Next key to work on, or null once shut down. Pair every key with done(key). */
  get(): Promise<string | null> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      this.metrics.onDepth?.(this.queue.length);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    // Added again while it was being worked on: hand it out once more.
    if (this.dirty.has(key) && !this.shuttingDown) this.handOut(key);
  }

  len(): number {
    return this.queue.length;
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const d of this.delayed.values()) clearTimeout(d.timer);
    this.delayed.clear();
    for (const w of this.waiters.splice(0)) w(null);
  }
}
