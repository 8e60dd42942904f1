import type pg from 'pg';
import type { JobResult, PgBoss } from 'pg-boss';
import type { Logger } from '../core/logger.js';
import { metrics } from '../core/metrics.js';
import { QUEUE, type ProcessJobData } from '../core/queues.js';
import { storeBatch } from './store.js';

export interface ProcessWorker {
  stop(): Promise<void>;
  setConcurrency(n: number): Promise<void>;
  concurrency(): number;
}

const FETCH_JOBS = 4;

/** Processor worker; in file mode the autoscaler changes its local concurrency instead of pod replicas. */
export async function startProcessWorker(boss: PgBoss, pool: pg.Pool, log: Logger, concurrency: number): Promise<ProcessWorker> {
  let current = 0;
  // Up to FETCH_JOBS jobs per fetch, and fetch again at once while fetches come back full: with one
  // job per fetch, pg-boss waits the polling interval between jobs, which capped a worker at two
  // batches a second however fast the batches were stored. Each job still succeeds or fails on its
  // own (perJobResults), so one bad batch is retried alone.
  const handler = async (jobs: { data: ProcessJobData; id: string }[]): Promise<JobResult[]> => {
    const results: JobResult[] = [];
    for (const job of jobs) {
      try {
        const { written, version } = await storeBatch(pool, job.data);
        metrics.plansIngested.inc({ source: job.data.source }, written);
        log.debug({ source: job.data.source, fetchId: job.data.fetchId, seq: job.data.seq, written, version }, 'batch stored');
        results.push({ id: job.id, status: 'completed', output: { written } });
      } catch (err) {
        log.warn({ err, source: job.data.source, fetchId: job.data.fetchId, seq: job.data.seq }, 'batch failed; it will be retried');
        results.push({ id: job.id, status: 'failed', output: { message: (err as Error).message } });
      }
    }
    return results;
  };
  const start = async (n: number) => {
    if (n > 0) {
      await boss.work<ProcessJobData>(
        QUEUE.process,
        { localConcurrency: n, batchSize: FETCH_JOBS, burstWhenBatchFull: true, perJobResults: true, pollingIntervalSeconds: 0.5 },
        handler,
      );
    }
    current = n;
  };
  await start(concurrency);
  return {
    async stop() {
      if (current > 0) await boss.offWork(QUEUE.process, { wait: true });
      current = 0;
    },
    async setConcurrency(n: number) {
      if (n === current) return;
      if (current > 0) await boss.offWork(QUEUE.process, { wait: true });
      await start(n);
      log.info({ concurrency: n }, 'processor concurrency changed');
    },
    concurrency: () => current,
  };
}
