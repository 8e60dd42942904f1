// Redis as a cache only: every call goes through an opossum breaker with a short timeout, and any
// failure is a miss. When Redis is slow or down the breaker opens and search goes straight to
// Postgres without waiting on Redis; the breaker half-opens by itself and closes when Redis is back.
import { Redis } from 'ioredis';
import CircuitBreaker from 'opossum';
import type { Logger } from '../core/logger.js';
import { metrics } from '../core/metrics.js';

export interface SearchCache {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): void;
  status(): 'up' | 'degraded';
  close(): Promise<void>;
}

export interface RedisCacheOptions {
  timeoutMs: number;
  resetTimeoutMs?: number;
}

export class RedisSearchCache implements SearchCache {
  private readonly redis: Redis;
  private readonly getBreaker: CircuitBreaker<[string], string | null>;

  constructor(url: string, private readonly log: Logger, opts: RedisCacheOptions) {
    this.redis = new Redis(url, {
      // Fail fast while disconnected instead of queueing requests behind a dead connection.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
      lazyConnect: false,
    });
    this.redis.on('error', () => {}); // reported through the breaker and /readyz, not as a crash
    this.getBreaker = new CircuitBreaker((key: string) => this.redis.get(key), {
      name: 'redis-cache',
      timeout: opts.timeoutMs,
      errorThresholdPercentage: 50,
      volumeThreshold: 5,
      rollingCountTimeout: 10_000,
      resetTimeout: opts.resetTimeoutMs ?? 2000,
    });
    this.getBreaker.fallback(() => null);
    const gauge = (v: number) => () => metrics.breakerState.set({ breaker: 'redis-cache' }, v);
    this.getBreaker.on('open', () => {
      gauge(2)();
      this.log.warn('redis cache breaker open: serving from Postgres');
    });
    this.getBreaker.on('halfOpen', gauge(1));
    this.getBreaker.on('close', () => {
      gauge(0)();
      this.log.info('redis cache breaker closed');
    });
    gauge(0)();
  }

  async get(key: string): Promise<string | null> {
    return this.getBreaker.fire(key);
  }

  set(key: string, value: string, ttlSeconds: number): void {
    // Writes never hold a request: skipped while the breaker is open or the connection is down.
    if (this.getBreaker.opened || this.redis.status !== 'ready') return;
    this.redis.set(key, value, 'EX', ttlSeconds).catch(() => {});
  }

  status(): 'up' | 'degraded' {
    return this.redis.status === 'ready' && !this.getBreaker.opened ? 'up' : 'degraded';
  }

  async close(): Promise<void> {
    this.getBreaker.shutdown();
    this.redis.disconnect();
  }
}
