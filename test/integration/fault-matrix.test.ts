// Fault matrix, provider side: every simulator fault mode after a good snapshot is stored.
// Each must leave every stored plan as it was, record an outcome, and never throw out of the worker;
// /search keeps answering (from Postgres) while the fetch is failing or stalled.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../services/api/app.js';
import { SearchService } from '../../services/api/search-service.js';
import { BreakerRegistry } from '../../services/fetcher/fetcher.js';
import { ProviderSimulator, type Fault } from '../../services/provider-sim/server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { fixture } from '../helpers/fixtures.js';
import { fetchJob, ingestDocuments, ingestOnce, silentLog, storedPlans } from '../helpers/ingest.js';

let db: TestDatabase;
let app: FastifyInstance;
let baseline: Awaited<ReturnType<typeof storedPlans>>;

beforeAll(async () => {
  db = await createTestDatabase();
  await ingestDocuments(db.pool, [fixture('response_1.xml')]);
  baseline = await storedPlans(db.pool);
  app = await buildApp({ log: silentLog, search: new SearchService(db.pool, { version: 1 }, null), readiness: { database: async () => true, cache: () => 'disabled' } });
});
afterAll(async () => {
  await app.close();
  await db.drop();
});

const cases: { fault: Fault; outcome: string; reason?: string; changes?: boolean }[] = [
  { fault: 'http500', outcome: 'failed', reason: 'http_status' },
  { fault: 'http503', outcome: 'failed', reason: 'http_status' },
  { fault: 'reset', outcome: 'failed', reason: 'connection' },
  { fault: 'slow-first-byte', outcome: 'failed', reason: 'timeout' },
  { fault: 'drip', outcome: 'failed', reason: 'timeout' },
  // plans completed before the cut are valid and newer, so they may update stored ones
  { fault: 'truncated', outcome: 'partial', reason: 'truncated', changes: true },
  { fault: 'bomb', outcome: 'partial', reason: 'malformed' },
  { fault: 'invalid', outcome: 'ok', changes: true },
  { fault: 'huge', outcome: 'failed', reason: 'too_large' },
];

describe.each(cases)('provider fault $fault', ({ fault, outcome, reason, changes }) => {
  it(`is recorded as ${outcome}${reason ? ` (${reason})` : ''}, loses nothing, and search keeps answering`, async () => {
    // stall 3 s against a 1 s idle timeout; drip sends 64 bytes every 750 ms against a 2 s total deadline
    const sim = await new ProviderSimulator({ documents: [fixture('response_2.xml')], faults: [fault], stallMs: 3000, huge: { plans: 20_000, zonesPerPlan: 50 } }).start();
    const before = await storedPlans(db.pool);
    try {
      const job = fetchJob(sim.url, { timeoutSeconds: 1, maxBodyBytes: fault === 'huge' ? 4 * 1024 * 1024 : undefined, source: 'default/fever' });
      const searchDuring = (async () => {
        const started = Date.now();
        const res = await app.inject('/search');
        return { status: res.statusCode, n: (res.json() as { data: { events: unknown[] } }).data.events.length, ms: Date.now() - started };
      })();
      const result = await ingestOnce(db.pool, job, { breakers: new BreakerRegistry() });
      expect(result.outcome).toBe(outcome);
      if (reason) expect(result.reason).toBe(reason);
      const during = await searchDuring;
      expect(during.status).toBe(200);
      expect(during.n).toBeGreaterThanOrEqual(4);
      const after = await storedPlans(db.pool);
      // every plan stored before the fault is still there (a fault may only add valid plans)
      for (const p of baseline) expect(after.map((a) => a.id)).toContain(p.id);
      if (!changes) expect(after).toEqual(before);
      const src = await db.pool.query('SELECT last_outcome FROM plansync.sources WHERE name = $1', ['default/fever']);
      expect(src.rows[0].last_outcome).toBe(outcome);
    } finally {
      await sim.stop();
    }
  });
});

describe('retries and the circuit breaker', () => {
  it('retries transient failures with backoff and succeeds when the provider recovers', async () => {
    const sim = await new ProviderSimulator({ documents: [fixture('response_1.xml')], faults: ['http503', 'reset'] }).start();
    try {
      await db.pool.query('UPDATE plansync.sources SET etag = NULL, content_hash = NULL');
      const result = await ingestOnce(db.pool, fetchJob(sim.url, { retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 } }));
      expect(result.outcome).toBe('ok');
      expect(sim.served).toEqual(['http503', 'reset', 'ok']);
    } finally {
      await sim.stop();
    }
  });

  it('does not retry a 4xx-style permanent failure', async () => {
    const sim = await new ProviderSimulator({ documents: [fixture('response_1.xml')], faults: ['huge'] }).start();
    try {
      const result = await ingestOnce(db.pool, fetchJob(sim.url, { maxBodyBytes: 1024, retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 } }));
      expect(result.reason).toBe('too_large');
      expect(sim.requests).toBe(1);
    } finally {
      await sim.stop();
    }
  });

  it('opens the per-source breaker after repeated failures and stops calling the provider', async () => {
    const sim = await new ProviderSimulator({ documents: [fixture('response_1.xml')], faults: ['http503'], loopFaults: true }).start();
    const breakers = new BreakerRegistry();
    try {
      const job = fetchJob(sim.url, { breaker: { failureThreshold: 3, resetSeconds: 60 }, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
      for (let i = 0; i < 3; i++) expect((await ingestOnce(db.pool, job, { breakers })).outcome).toBe('failed');
      const calls = sim.requests;
      const open = await ingestOnce(db.pool, job, { breakers });
      expect(open.outcome).toBe('breaker_open');
      expect(sim.requests).toBe(calls);
    } finally {
      breakers.shutdown();
      await sim.stop();
    }
  });
});
