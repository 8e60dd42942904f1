import type pg from 'pg';
import { createLogger } from '../../services/core/logger.js';
import { ProviderSimulator } from '../../services/provider-sim/server.js';
import type { FetchJobData } from '../../services/core/queues.js';
import { BreakerRegistry, runFetch, type FetchResult } from '../../services/fetcher/fetcher.js';
import { storeBatch } from '../../services/processor/store.js';

export const silentLog = createLogger('silent');

export function fetchJob(url: string, over: Partial<FetchJobData> = {}): FetchJobData {
  return {
    source: 'default/fever',
    url,
    format: 'fever-xml',
    timezone: 'UTC',
    timeoutSeconds: 2,
    retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 50 },
    ...over,
  };
}

/** Fetch then store every batch right away: the pipeline without the queue in between. */
export async function ingestOnce(pool: pg.Pool, job: FetchJobData, opts: { batchSize?: number; breakers?: BreakerRegistry } = {}): Promise<FetchResult> {
  return runFetch(
    {
      pool,
      log: silentLog,
      enqueue: async (batch) => {
        await storeBatch(pool, batch);
      },
      batchSize: opts.batchSize ?? 500,
      maxBodyBytes: 64 * 1024 * 1024,
      breakers: opts.breakers ?? new BreakerRegistry(),
    },
    job,
  );
}

/** Stores the provider's sample snapshots in order, through the simulator, as a test's starting data. */
export async function ingestDocuments(pool: pg.Pool, documents: string[]): Promise<void> {
  const sim = await new ProviderSimulator({ documents }).start();
  try {
    for (let i = 0; i < documents.length; i++) await ingestOnce(pool, fetchJob(sim.url));
  } finally {
    await sim.stop();
  }
}

export interface StoredPlan {
  id: string;
  base_plan_id: string;
  plan_id: string;
  title: string;
  sell_mode: string;
  ever_online: boolean;
  min_price: number | null;
  max_price: number | null;
  end_local: string;
}

export async function storedPlans(pool: pg.Pool): Promise<StoredPlan[]> {
  const r = await pool.query<StoredPlan>(
    `SELECT id, base_plan_id, plan_id, title, sell_mode, ever_online, min_price, max_price, to_char(end_local, 'YYYY-MM-DD"T"HH24:MI:SS') AS end_local
     FROM plansync.plans ORDER BY base_plan_id::int, plan_id::int`,
  );
  return r.rows;
}
