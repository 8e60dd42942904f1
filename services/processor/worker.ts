import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Logger } from '../core/logger.js';
import { metrics } from '../core/metrics.js';
import { QUEUE, type ProcessJobData } from '../core/queues.js';
import { storeBatch } from './store.js';

export interface ProcessWorker {
  stop(): Promise<void>;
  setConcurrency(n: number): Promise<void>;
  concurrency(): number;
}

/** Processor worker; in file mode the autoscaler changes its local concurrency instead of pod replicas. */
export async function startProcessWorker(boss: PgBoss, pool: pg.Pool, log: Logger, concurrency: number): Promise<ProcessWorker> {
  let current = 0;
  const handler = async ([job]: { data: ProcessJobData; id: string }[]) => {
    if (!job) return;
    const { written, version } = await storeBatch(pool, job.data);
    metrics.plansIngested.inc({ source: job.data.source }, written);
    log.debug({ source: job.data.source, fetchId: job.data.fetchId, seq: job.data.seq, written, version }, 'batch stored');
    return { written };
  };
  const start = async (n: number) => {
    if (n > 0) await boss.work<ProcessJobData>(QUEUE.process, { localConcurrency: n, batchSize: 1, pollingIntervalSeconds: 0.5 }, handler);
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
