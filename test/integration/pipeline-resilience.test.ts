// Pipeline faults: PostgreSQL restarted mid-ingest, and a processor SIGKILLed mid-batch.
// Nothing may be lost or duplicated, and the workers must carry on by themselves.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { PgBoss } from 'pg-boss';
import { createPool } from '../../services/core/db.js';
import { migrate } from '../../services/core/migrate.js';
import { projectRoot } from '../../services/core/paths.js';
import { QUEUE, startBoss } from '../../services/core/queues.js';
import { startFetchWorker } from '../../services/fetcher/worker.js';
import { startProcessWorker } from '../../services/processor/worker.js';
import { ProviderSimulator } from '../../services/provider-sim/server.js';
import type { Stoppable } from '../../services/runtime.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { silentLog, fetchJob } from '../helpers/ingest.js';
import { createLogger } from '../../services/core/logger.js';
const log = process.env.TEST_LOG ? createLogger(process.env.TEST_LOG) : silentLog;
import { ownPostgres } from '../helpers/own-postgres.js';
import { waitFor } from '../helpers/ports.js';
import { syntheticPlanList } from '../../services/provider-sim/synthetic.js';

const count = async (pool: pg.Pool) => (await pool.query<{ n: number; ids: number }>('SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM plansync.plans')).rows[0]!;

describe('PostgreSQL restarted mid-ingest', () => {
  let server: Awaited<ReturnType<typeof ownPostgres>>;
  beforeAll(async () => {
    server = await ownPostgres();
  });
  afterAll(async () => {
    await server.remove();
  });

  it('loses and duplicates nothing: failed jobs are retried once the server is back', async () => {
    const pool = createPool(server.url, 10);
    await migrate(pool);
    const doc = [...syntheticPlanList({ plans: 3000, zonesPerPlan: 20 })].join('');
    const sim = await new ProviderSimulator({ documents: [doc] }).start();
    const boss = await startBoss(server.url, log, { superviseIntervalSeconds: 1 });
    // A job in flight when the server goes away cannot record its outcome; it comes back when its
    // lease ends. Short leases here, so that happens within the test rather than after minutes.
    await boss.updateQueue(QUEUE.process, { expireInSeconds: 5 });
    await boss.updateQueue(QUEUE.fetch, { expireInSeconds: 10 });
    const stops: Stoppable[] = [];
    stops.push(await startFetchWorker(boss, pool, log, { concurrency: 1, batchSize: 50, maxBodyBytes: 1 << 26 }));
    stops.push(await startProcessWorker(boss, pool, log, 1));
    try {
      await boss.send(QUEUE.fetch, fetchJob(sim.url, { source: 'default/restart', timeoutSeconds: 10 }));
      await waitFor(async () => (await count(pool)).n > 0, 20_000, 'first batches stored');
      await server.stop(); // mid-ingest: most of the 60 batches are still queued
      await new Promise((r) => setTimeout(r, 1500));
      await server.start();
      await waitFor(async () => (await count(pool)).n === 3000, 90_000, 'all 3000 plans stored after the restart');
      expect(await count(pool)).toEqual({ n: 3000, ids: 3000 });
    } finally {
      for (const s of stops.reverse()) await s.stop().catch(() => {});
      await boss.stop({ graceful: false }).catch(() => {});
      await sim.stop();
      await pool.end();
    }
  });
});

describe('processor killed mid-batch', () => {
  let db: TestDatabase;
  let boss: PgBoss;
  const children: ChildProcess[] = [];
  const cli = join(projectRoot(), 'dist', 'services', 'cli.js');

  const processor = () => {
    const child = spawn(process.execPath, [cli, 'processor'], {
      env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn', METRICS_PORT: '0', HOST: '127.0.0.1' },
      stdio: 'ignore',
    });
    children.push(child);
    return child;
  };

  beforeAll(async () => {
    if (!existsSync(cli)) throw new Error('dist/ missing: run `make build` (make test does) before this suite');
    db = await createTestDatabase();
    boss = await startBoss(db.url, silentLog, { superviseIntervalSeconds: 1 });
    // A short lease, so the job of a dead processor comes back within seconds, not the default 5 minutes.
    await boss.updateQueue(QUEUE.process, { expireInSeconds: 2, retryDelay: 0, retryBackoff: false });
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await boss.stop({ graceful: false });
    await db.drop();
  });

  it('commits nothing from the killed attempt, and the retried job stores every plan exactly once', async () => {
    const plans = Array.from({ length: 300 }, (_, i) => ({
      id: `00000000-0000-5000-8000-${String(i).padStart(12, '0')}`,
      basePlanId: '1',
      planId: String(i),
      title: `plan ${i}`,
      startLocal: '2021-05-01T10:00:00',
      endLocal: '2021-05-01T12:00:00',
      minPrice: 1,
      maxPrice: 2,
      sellMode: 'online',
    }));
    // Hold the table so the processor's transaction is stuck mid-batch when we kill it.
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE plansync.plans IN ACCESS EXCLUSIVE MODE');
    const jobId = await boss.send(QUEUE.process, { source: 'default/kill', timezone: 'UTC', observedAt: new Date().toISOString(), fetchId: 'f', seq: 0, plans });
    const first = processor();
    await waitFor(async () => (await boss.getJobById(QUEUE.process, jobId!))?.state === 'active', 20_000, 'job picked up');
    await new Promise((r) => setTimeout(r, 300)); // inside storeBatch, waiting on the lock
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    await blocker.query('ROLLBACK');
    await blocker.end();
    expect(await count(db.pool)).toEqual({ n: 0, ids: 0 });

    processor();
    await waitFor(async () => {
      const j = await boss.getJobById(QUEUE.process, jobId!);
      if (j?.state !== 'completed') throw new Error(`job ${j?.state} retry ${j?.retryCount} expire ${j?.expireInSeconds}`);
      return true;
    }, 30_000, 'job retried and completed');
    expect(await count(db.pool)).toEqual({ n: 300, ids: 300 });
    const job = await boss.getJobById(QUEUE.process, jobId!);
    expect(job!.retryCount).toBeGreaterThanOrEqual(1);
  });
});
