import type pg from 'pg';
import type { EventSummary } from './schemas.js';

export interface SearchRange {
  startsAt?: string | undefined;
  endsAt?: string | undefined;
}

// Inclusive containment: an event matches when it starts at or after starts_at and ends at or
// before ends_at. Dates and times are returned as the provider's local wall clock.
const SEARCH_SQL = `
SELECT id, title,
       to_char(start_local, 'YYYY-MM-DD') AS start_date, to_char(start_local, 'HH24:MI:SS') AS start_time,
       to_char(end_local, 'YYYY-MM-DD')   AS end_date,   to_char(end_local, 'HH24:MI:SS')   AS end_time,
       min_price, max_price
FROM plansync.plans
WHERE ever_online
  AND ($1::timestamptz IS NULL OR starts_at >= $1::timestamptz)
  AND ($2::timestamptz IS NULL OR ends_at <= $2::timestamptz)
ORDER BY starts_at, id`;

export async function searchEvents(pool: pg.Pool, range: SearchRange): Promise<EventSummary[]> {
  const res = await pool.query<EventSummary>({ name: 'plansync-search', text: SEARCH_SQL, values: [range.startsAt ?? null, range.endsAt ?? null] });
  return res.rows;
}

export async function datasetVersion(pool: pg.Pool): Promise<number> {
  const res = await pool.query<{ version: string }>('SELECT version FROM plansync.dataset_version');
  return Number(res.rows[0]?.version ?? 0);
}
