// The only writer of plans. One batch = one transaction: it commits whole or not at all, so a
// processor killed mid-batch leaves nothing half-written and the retried job converges to the same rows.
import type pg from 'pg';
import { trace } from '@opentelemetry/api';
import { dedupeById } from '../ingest/normalize.js';
import type { ProcessJobData } from '../core/queues.js';

export const CHANGE_CHANNEL = 'plansync_changed';

const VERSIONED = ['title', 'start_local', 'end_local', 'starts_at', 'ends_at', 'min_price', 'max_price', 'version_seen_at'];

// The stored searchable version is replaced by an incoming one when:
//  - the incoming one is online and no online version was ever stored, or it is newer; or
//  - the plan was never online and the incoming (offline) version is newer.
// An offline version never overwrites an online one: a plan once sold online keeps its last online
// version forever. Ordering by observation time makes late, retried batches harmless.
const TAKE_INCOMING = `(
  (excluded.ever_online AND (NOT p.ever_online OR excluded.version_seen_at >= p.version_seen_at))
  OR (NOT p.ever_online AND NOT excluded.ever_online AND excluded.version_seen_at >= p.version_seen_at)
)`;

const UPSERT = `
INSERT INTO plansync.plans AS p (
  id, source, base_plan_id, plan_id, title, start_local, end_local, starts_at, ends_at,
  min_price, max_price, sell_mode, ever_online, first_seen_at, last_seen_at, version_seen_at, last_online_at)
SELECT x.id, $2, x."basePlanId", x."planId", x.title, x."startLocal", x."endLocal",
       x."startLocal" AT TIME ZONE $3, x."endLocal" AT TIME ZONE $3,
       x."minPrice", x."maxPrice", x."sellMode", x."sellMode" = 'online', $4, $4, $4,
       CASE WHEN x."sellMode" = 'online' THEN $4::timestamptz END
FROM jsonb_to_recordset($1::jsonb) AS x(
  id uuid, "basePlanId" text, "planId" text, title text, "startLocal" timestamp, "endLocal" timestamp,
  "minPrice" numeric, "maxPrice" numeric, "sellMode" text)
ON CONFLICT (id) DO UPDATE SET
  ${VERSIONED.map((c) => `${c} = CASE WHEN ${TAKE_INCOMING} THEN excluded.${c} ELSE p.${c} END`).join(',\n  ')},
  sell_mode = CASE WHEN excluded.last_seen_at >= p.last_seen_at THEN excluded.sell_mode ELSE p.sell_mode END,
  ever_online = p.ever_online OR excluded.ever_online,
  first_seen_at = LEAST(p.first_seen_at, excluded.first_seen_at),
  last_seen_at = GREATEST(p.last_seen_at, excluded.last_seen_at),
  last_online_at = GREATEST(p.last_online_at, excluded.last_online_at),
  updated_at = now()`;

export interface StoreResult {
  written: number;
  version: number;
}

const tracer = trace.getTracer('plansync-processor');

export function storeBatch(pool: pg.Pool, data: ProcessJobData): Promise<StoreResult> {
  return tracer.startActiveSpan('store-batch', { attributes: { 'plansync.source': data.source, 'plansync.plans': data.plans.length } }, async (span) => {
    try {
      return await writeBatch(pool, data);
    } finally {
      span.end();
    }
  });
}

async function writeBatch(pool: pg.Pool, data: ProcessJobData): Promise<StoreResult> {
  const plans = dedupeById(data.plans);
  if (plans.length === 0) return { written: 0, version: 0 };
  const client = await pool.connect();
  // A server lost while the client is checked out surfaces through the failing query; without a
  // listener the client's 'error' event would also crash the worker.
  const ignore = () => {};
  client.on('error', ignore);
  try {
    await client.query('BEGIN');
    const res = await client.query(UPSERT, [JSON.stringify(plans), data.source, data.timezone, data.observedAt]);
    // Bumped in the same transaction: a reader that sees the new version also sees the new rows.
    const v = await client.query<{ version: string }>('UPDATE plansync.dataset_version SET version = version + 1 RETURNING version');
    const version = Number(v.rows[0]!.version);
    await client.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, String(version)]);
    await client.query('COMMIT');
    return { written: res.rowCount ?? 0, version };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.off('error', ignore);
    client.release();
  }
}
