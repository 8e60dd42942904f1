// Search path under a failing Redis: a real redis-server, killed mid-load and restarted.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { buildApp } from '../../services/api/app.js';
import { RedisSearchCache } from '../../services/api/search-cache.js';
import { SearchService } from '../../services/api/search-service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { fixture } from '../helpers/fixtures.js';
import { ingestDocuments, silentLog } from '../helpers/ingest.js';
import { waitFor } from '../helpers/ports.js';
import { TestRedis } from '../helpers/redis.js';

let db: TestDatabase;
let redis: TestRedis;
let cache: RedisSearchCache;
let app: FastifyInstance;
let dbQueries = 0;
const versions = { version: 1 };

beforeAll(async () => {
  db = await createTestDatabase();
  await ingestDocuments(db.pool, [fixture('response_1.xml'), fixture('response_2.xml')]);
  redis = await TestRedis.start();
  cache = new RedisSearchCache(redis.url, silentLog, { timeoutMs: 50, resetTimeoutMs: 500 });
  // Count the queries search sends to Postgres.
  const counting = { query: (...args: unknown[]) => (dbQueries++, (db.pool.query as (...a: unknown[]) => unknown)(...args)) } as unknown as pg.Pool;
  app = await buildApp({
    log: silentLog,
    search: new SearchService(counting, versions, cache, 60),
    readiness: { database: async () => true, cache: () => cache.status() },
  });
  await waitFor(() => cache.status() === 'up', 5000, 'redis connection');
});
afterAll(async () => {
  await app.close();
  await cache.close();
  await redis.stop();
  await db.drop();
});

const get = async (qs = '') => {
  const res = await app.inject(`/search${qs}`);
  return { status: res.statusCode, cache: res.headers['x-cache'], events: (res.json() as { data: { events: { title: string }[] } }).data.events };
};

describe('search cache', () => {
  it('serves a repeated query from Redis', async () => {
    versions.version = 10;
    expect((await get()).cache).toBe('miss');
    await waitFor(async () => (await get()).cache === 'hit', 2000, 'cache fill');
  });

  it('sends one database query for a burst of concurrent misses (single flight)', async () => {
    versions.version = 11; // a new version: every key is cold
    dbQueries = 0;
    const results = await Promise.all(Array.from({ length: 100 }, () => get('?starts_at=2021-01-01T00:00:00Z')));
    expect(results.every((r) => r.status === 200 && r.events.length === 4)).toBe(true);
    expect(dbQueries).toBe(1);
  });

  it('answers repeats from the in-process L1 when it has one, and never across versions', async () => {
    const withL1 = new SearchService(db.pool, versions, cache, 60, 1024 * 1024);
    versions.version = 20;
    expect((await withL1.search({})).source).toBe('miss');
    const again = await withL1.search({});
    expect(again.source).toBe('local');
    versions.version = 21;
    expect((await withL1.search({})).source).not.toBe('local');
    expect(JSON.parse(again.body.toString()).data.events).toHaveLength(4);
  });

  it('a new dataset version is never answered from an older cache entry', async () => {
    versions.version = 12;
    await get();
    await waitFor(async () => (await get()).cache === 'hit', 2000, 'cache fill');
    versions.version = 13;
    expect((await get()).cache).toBe('miss');
  });

  it('keeps answering correctly when Redis is killed mid-load, reports degraded, and recovers by itself', async () => {
    const answers: { status: number; n: number }[] = [];
    let killed = false;
    for (let round = 0; round < 40; round++) {
      if (round === 15) {
        await redis.kill();
        killed = true;
      }
      const batch = await Promise.all(Array.from({ length: 10 }, () => get()));
      answers.push(...batch.map((r) => ({ status: r.status, n: r.events.length })));
    }
    expect(killed).toBe(true);
    expect(answers).toHaveLength(400);
    expect(answers.every((a) => a.status === 200 && a.n === 4)).toBe(true);
    expect(cache.status()).toBe('degraded');
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'degraded', checks: { cache: 'degraded' } });

    await redis.start();
    versions.version = 14;
    await waitFor(async () => (await get()).cache === 'hit', 15_000, 'cache back in use after Redis restart');
    expect(cache.status()).toBe('up');
  });
});
