// Fetch schedules held in pg-boss, one per PlanSource (key = namespace/name). Level-triggered:
// each call compares what pg-boss holds with what the spec wants and changes only the difference.
import { isDeepStrictEqual } from 'node:util';
import type { PgBoss } from 'pg-boss';
import { QUEUE, type FetchJobData } from '../../services/core/queues.js';
import type { ResolvedSpec } from '../plansource/types.js';

export interface DesiredSchedule {
  key: string;
  cron: string;
  data: FetchJobData;
}

export function desiredSchedule(key: string, spec: ResolvedSpec, headers?: Record<string, string>): DesiredSchedule {
  const data: FetchJobData = {
    source: key,
    url: spec.url,
    format: spec.format,
    timezone: spec.timezone,
    timeoutSeconds: spec.timeoutSeconds,
    retry: spec.retry,
    breaker: spec.breaker,
  };
  if (spec.maxBodyBytes !== undefined) data.maxBodyBytes = spec.maxBodyBytes;
  if (headers && Object.keys(headers).length > 0) data.headers = headers;
  return { key, cron: spec.cron, data };
}

export type ScheduleChange = 'created' | 'updated' | 'unchanged' | 'removed' | 'absent';

/** Applies one source's desired schedule (null = none). New or changed schedules also fetch right away. */
export async function applySchedule(boss: PgBoss, key: string, desired: DesiredSchedule | null): Promise<ScheduleChange> {
  const existing = await boss.getSchedule(QUEUE.fetch, key);
  if (!desired) {
    if (!existing) return 'absent';
    await boss.unschedule(QUEUE.fetch, key);
    return 'removed';
  }
  if (existing && existing.cron === desired.cron && isDeepStrictEqual(existing.data, desired.data)) return 'unchanged';
  await boss.schedule(QUEUE.fetch, desired.cron, desired.data, { key, tz: 'UTC', singletonKey: key });
  await boss.send(QUEUE.fetch, desired.data, { singletonKey: key });
  return existing ? 'updated' : 'created';
}

/** Removes schedules whose source no longer exists (missed deletes, renamed files). */
export async function pruneSchedules(boss: PgBoss, keep: Set<string>, owns: (key: string) => boolean = () => true): Promise<string[]> {
  const removed: string[] = [];
  for (const s of await boss.getSchedules(QUEUE.fetch)) {
    if (!keep.has(s.key) && owns(s.key)) {
      await boss.unschedule(QUEUE.fetch, s.key);
      removed.push(s.key);
    }
  }
  return removed;
}
