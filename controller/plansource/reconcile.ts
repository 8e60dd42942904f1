// Reconcile one PlanSource: level-triggered and idempotent. It reads the object as it is now,
// compares with what pg-boss holds, changes only the difference, reports status, and asks to be
// called again after a while (status refresh) whatever happened before.
import { isDeepStrictEqual } from 'node:util';
import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Logger } from '../../services/core/logger.js';
import { applySchedule, desiredSchedule, type ScheduleChange } from '../schedule/schedules.js';
import { resolveSpec, SpecError } from './resolve.js';
import { FINALIZER, type Condition, type PlanSource, type PlanSourceStatus, type ResolvedSpec } from './types.js';
import type { EventInput } from '../kube/client.js';

/** What reconcile needs from Kubernetes (KubeClient implements it). */
export interface PlanSourceApi {
  setFinalizers(ps: PlanSource, finalizers: string[]): Promise<PlanSource>;
  patchPlanSourceStatus(namespace: string, name: string, status: PlanSourceStatus): Promise<PlanSource>;
  readSecret(namespace: string, name: string): Promise<Record<string, string> | null>;
}

export interface ReconcileDeps {
  api: PlanSourceApi;
  boss: PgBoss;
  pool: pg.Pool;
  log: Logger;
  event: (ps: PlanSource, ev: EventInput) => void;
  /** Latest autoscaler view of a source: its queue depth and the workers it accounts for. */
  load: (key: string) => { queueDepth: number; workers: number } | undefined;
  statusRefreshMs?: number;
  now?: () => Date;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
  change?: ScheduleChange;
}

interface SourceRow {
  last_fetch_at: Date | null;
  last_success_at: Date | null;
  last_outcome: string | null;
  last_error: string | null;
  plans_seen: number;
}

export async function readSourceRow(pool: pg.Pool, key: string): Promise<SourceRow | null> {
  const r = await pool.query<SourceRow>('SELECT last_fetch_at, last_success_at, last_outcome, last_error, plans_seen FROM plansync.sources WHERE name = $1', [key]);
  return r.rows[0] ?? null;
}

/** Keeps lastTransitionTime when a condition's status did not change (Kubernetes API conventions). */
export function setCondition(existing: Condition[] | undefined, next: Omit<Condition, 'lastTransitionTime'>, now: Date): Condition[] {
  const list = (existing ?? []).filter((c) => c.type !== next.type);
  const prev = existing?.find((c) => c.type === next.type);
  const lastTransitionTime = prev && prev.status === next.status ? prev.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return [...list, { ...next, lastTransitionTime }].sort((a, b) => a.type.localeCompare(b.type));
}

export async function reconcilePlanSource(deps: ReconcileDeps, key: string, current: PlanSource | undefined): Promise<ReconcileResult> {
  const refresh = deps.statusRefreshMs ?? 30_000;
  if (!current) {
    // Gone without our finalizer (e.g. removed by hand): still make sure nothing keeps fetching it.
    const change = await applySchedule(deps.boss, key, null);
    if (change === 'removed') deps.log.info({ source: key }, 'schedule removed: PlanSource no longer exists');
    return { change };
  }
  let ps = current;
  const finalizers = ps.metadata.finalizers ?? [];
  if (ps.metadata.deletionTimestamp) {
    if (!finalizers.includes(FINALIZER)) return {};
    const change = await applySchedule(deps.boss, key, null);
    deps.event(ps, { type: 'Normal', reason: 'ScheduleRemoved', message: 'PlanSource deleted: fetch schedule removed; stored plans are kept' });
    await deps.api.setFinalizers(ps, finalizers.filter((f) => f !== FINALIZER));
    deps.log.info({ source: key }, 'finalizer released');
    return { change };
  }
  if (!finalizers.includes(FINALIZER)) {
    deps.log.debug({ source: key }, 'adding finalizer');
    ps = await deps.api.setFinalizers(ps, [...finalizers, FINALIZER]);
  }

  const now = (deps.now ?? (() => new Date()))();
  const generation = ps.metadata.generation ?? 0;
  const prevConditions = ps.status?.conditions;
  let spec: ResolvedSpec;
  try {
    spec = resolveSpec(ps.spec);
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    // The CRD schema rejects most bad specs; this is what it cannot see (time zones, cron syntax).
    // The last good schedule stays in place: a typo must not stop a working source.
    const conditions = setCondition(
      setCondition(prevConditions, { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: err.message, observedGeneration: generation }, now),
      { type: 'Degraded', status: 'True', reason: 'InvalidSpec', message: err.message, observedGeneration: generation },
      now,
    );
    if (ps.status?.observedGeneration !== generation || !conditionIs(prevConditions, 'Ready', 'InvalidSpec')) {
      deps.event(ps, { type: 'Warning', reason: 'InvalidSpec', message: err.message });
    }
    await writeStatus(deps, ps, { ...ps.status, observedGeneration: generation, conditions });
    return { requeueAfterMs: refresh };
  }

  let headers: Record<string, string> | undefined;
  if (spec.headersSecret) {
    const secret = await deps.api.readSecret(ps.metadata.namespace!, spec.headersSecret);
    if (!secret) {
      const message = `Secret ${spec.headersSecret} not found in ${ps.metadata.namespace}`;
      const conditions = setCondition(prevConditions, { type: 'Ready', status: 'False', reason: 'SecretNotFound', message, observedGeneration: generation }, now);
      if (!conditionIs(prevConditions, 'Ready', 'SecretNotFound')) deps.event(ps, { type: 'Warning', reason: 'SecretNotFound', message });
      await writeStatus(deps, ps, { ...ps.status, observedGeneration: generation, conditions });
      return { requeueAfterMs: Math.min(refresh, 10_000) };
    }
    headers = secret;
  }

  deps.log.debug({ source: key }, 'applying schedule');
  const change = await applySchedule(deps.boss, key, spec.suspend ? null : desiredSchedule(key, spec, headers));
  deps.log.debug({ source: key, change }, 'schedule applied');
  if (change === 'created' || change === 'updated') {
    deps.event(ps, { type: 'Normal', reason: change === 'created' ? 'ScheduleCreated' : 'ScheduleUpdated', message: `fetching ${spec.url} on "${spec.cron}" (UTC)` });
  } else if (change === 'removed') {
    deps.event(ps, { type: 'Normal', reason: 'Suspended', message: 'fetch schedule removed while suspended' });
  }

  const row = await readSourceRow(deps.pool, key);
  const load = deps.load(key);
  const failing = row?.last_outcome === 'failed';
  let conditions = setCondition(
    prevConditions,
    spec.suspend
      ? { type: 'Ready', status: 'False', reason: 'Suspended', message: 'spec.suspend is true: not fetching', observedGeneration: generation }
      : { type: 'Ready', status: 'True', reason: 'Scheduled', message: `fetch scheduled "${spec.cron}" (UTC)`, observedGeneration: generation },
    now,
  );
  conditions = setCondition(
    conditions,
    failing
      ? { type: 'Degraded', status: 'True', reason: 'FetchFailing', message: (row?.last_error ?? 'last fetch failed').slice(0, 512), observedGeneration: generation }
      : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '', observedGeneration: generation },
    now,
  );
  if (failing && !conditionIs(prevConditions, 'Degraded', 'FetchFailing')) {
    deps.event(ps, { type: 'Warning', reason: 'FetchFailing', message: row?.last_error ?? 'last fetch failed' });
  }
  const status: PlanSourceStatus = {
    observedGeneration: generation,
    conditions,
    schedule: spec.suspend ? '' : spec.cron,
    plans: row?.plans_seen ?? 0,
    queueDepth: load?.queueDepth ?? 0,
    workers: load?.workers ?? 0,
  };
  if (row?.last_fetch_at) status.lastFetchTime = iso(row.last_fetch_at);
  if (row?.last_success_at) status.lastSuccessTime = iso(row.last_success_at);
  if (row?.last_outcome) status.lastOutcome = row.last_outcome;
  await writeStatus(deps, ps, status);
  return { requeueAfterMs: refresh, change };
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function conditionIs(list: Condition[] | undefined, type: Condition['type'], reason: string): boolean {
  return list?.some((c) => c.type === type && c.reason === reason) ?? false;
}

/** Writes status only when it changed, so an idle controller makes no API calls but reads. */
async function writeStatus(deps: ReconcileDeps, ps: PlanSource, status: PlanSourceStatus): Promise<void> {
  if (isDeepStrictEqual(normalize(status), normalize(ps.status ?? {}))) return;
  deps.log.debug({ source: `${ps.metadata.namespace}/${ps.metadata.name}` }, 'writing status');
  await deps.api.patchPlanSourceStatus(ps.metadata.namespace!, ps.metadata.name, status);
}

/** Drops undefined fields so a status read back from the server compares equal to the one we built. */
const normalize = (s: PlanSourceStatus) => JSON.parse(JSON.stringify(s)) as unknown;
