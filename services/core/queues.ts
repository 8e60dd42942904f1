import { PgBoss } from 'pg-boss';
import type { Logger } from './logger.js';
import type { NormalizedPlan } from '../ingest/normalize.js';

export const QUEUE = {
  fetch: 'fetch',
  process: 'process',
  fetchDead: 'fetch-dead',
  processDead: 'process-dead',
} as const;

/** What a fetch needs to know about its source; carried in the job so fetchers need no Kubernetes access. */
export interface FetchJobData {
  source: string;
  url: string;
  format: 'fever-xml';
  timezone: string;
  timeoutSeconds: number;
  maxBodyBytes?: number;
  headers?: Record<string, string>;
  breaker?: { failureThreshold: number; resetSeconds: number };
  retry?: { attempts: number; baseDelayMs: number; maxDelayMs: number };
}

export interface ProcessJobData {
  source: string;
  timezone: string;
  /** ISO instant of the fetch that observed these plans; orders versions of one plan. */
  observedAt: string;
  fetchId: string;
  seq: number;
  plans: NormalizedPlan[];
}

export async function startBoss(
  connectionString: string,
  log: Logger,
  opts: { schedule?: boolean; supervise?: boolean; superviseIntervalSeconds?: number } = {},
): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString,
    schema: 'pgboss',
    max: 4,
    schedule: opts.schedule ?? false,
    supervise: opts.supervise ?? true,
    // Expired jobs (a worker killed mid-job) are found by the monitor pass: every 15 s rather than
    // pg-boss's default minute, so a dead processor's batch is retried soon after its lease ends.
    superviseIntervalSeconds: opts.superviseIntervalSeconds ?? 15,
    monitorIntervalSeconds: opts.superviseIntervalSeconds ?? 15,
    cronWorkerIntervalSeconds: 1,
    cronMonitorIntervalSeconds: 5,
    application_name: 'plansync-boss',
    // The trace active at send() rides in the job, so fetch -> process -> store is one trace.
    openTelemetry: { propagateContext: true },
  });
  boss.on('error', (err: Error) => log.error({ err }, 'pg-boss error'));
  await boss.start();
  await ensureQueues(boss);
  return boss;
}

async function createIfMissing(boss: PgBoss, name: string, options: Parameters<PgBoss['createQueue']>[1]): Promise<void> {
  if (await boss.getQueue(name)) return;
  try {
    await boss.createQueue(name, options);
  } catch (err) {
    // Another process created it between our check and our insert.
    if (!(await boss.getQueue(name))) throw err;
  }
}

/** Queues with retry, exponential backoff and a dead-letter queue each. Idempotent. */
export async function ensureQueues(boss: PgBoss): Promise<void> {
  await createIfMissing(boss, QUEUE.fetchDead, { retentionSeconds: 14 * 86400 });
  await createIfMissing(boss, QUEUE.processDead, { retentionSeconds: 14 * 86400 });
  // stately + singletonKey=source: at most one queued and one running fetch per source,
  // so schedule ticks that land while a slow provider is still answering collapse.
  await createIfMissing(boss, QUEUE.fetch, {
    policy: 'stately',
    retryLimit: 3,
    retryDelay: 2,
    retryBackoff: true,
    retryDelayMax: 60,
    expireInSeconds: 900,
    deadLetter: QUEUE.fetchDead,
  });
  await createIfMissing(boss, QUEUE.process, {
    retryLimit: 5,
    retryDelay: 1,
    retryBackoff: true,
    retryDelayMax: 60,
    expireInSeconds: 120, // a batch takes well under a second; a dead processor's lease ends soon
    deadLetter: QUEUE.processDead,
  });
}

export type { PgBoss };
