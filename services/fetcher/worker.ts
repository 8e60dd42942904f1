import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Logger } from '../core/logger.js';
import { QUEUE, type FetchJobData, type ProcessJobData } from '../core/queues.js';
import { BreakerRegistry, runFetch } from './fetcher.js';

export interface FetchWorkerOptions {
  concurrency: number;
  batchSize: number;
  maxBodyBytes: number;
}

export async function startFetchWorker(boss: PgBoss, pool: pg.Pool, log: Logger, opts: FetchWorkerOptions): Promise<{ stop(): Promise<void> }> {
  const breakers = new BreakerRegistry();
  const enqueue = async (batch: ProcessJobData) => {
    await boss.send(QUEUE.process, batch as unknown as object);
  };
  await boss.work<FetchJobData>(
    QUEUE.fetch,
    { localConcurrency: opts.concurrency, batchSize: 1, pollingIntervalSeconds: 0.5 },
    async ([job]) => {
      if (!job) return;
      // Failures are recorded and answered inside runFetch (retries, breaker); only a crash of
      // our own (database gone) escapes, and pg-boss then retries the job with backoff.
      return runFetch({ pool, log, enqueue, breakers, batchSize: opts.batchSize, maxBodyBytes: opts.maxBodyBytes }, job.data, job.signal);
    },
  );
  return {
    async stop() {
      await boss.offWork(QUEUE.fetch);
      breakers.shutdown();
    },
  };
}
