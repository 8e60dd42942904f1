// The fetch worker: provider snapshot -> validated, normalized plans -> batches on the process queue.
// It never writes plans itself and never deletes anything, so no fetch failure can lose stored data.
import { createReadStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import CircuitBreaker from 'opossum';
import { trace } from '@opentelemetry/api';
import type pg from 'pg';
import type { Logger } from '../core/logger.js';
import { fullJitterDelay, sleep } from '../core/backoff.js';
import { metrics } from '../core/metrics.js';
import type { FetchJobData, ProcessJobData } from '../core/queues.js';
import { PlanListParser, XmlFormatError } from '../ingest/planlist-parser.js';
import type { NormalizedPlan, Rejection } from '../ingest/normalize.js';
import { FetchFailure, fetchSnapshot, type Snapshot, type SnapshotRequest } from './http-source.js';

export type FetchOutcome = 'ok' | 'not_modified' | 'unchanged' | 'partial' | 'failed' | 'breaker_open';

export interface FetchResult {
  outcome: FetchOutcome;
  reason?: string;
  plans: number;
  rejected: number;
  batches: number;
  bytes: number;
}

export interface FetcherDeps {
  pool: pg.Pool;
  log: Logger;
  enqueue(batch: ProcessJobData): Promise<void>;
  batchSize: number;
  maxBodyBytes: number;
  breakers?: BreakerRegistry;
  random?: () => number;
}

const DEFAULT_RETRY = { attempts: 3, baseDelayMs: 500, maxDelayMs: 10_000 };
const DEFAULT_BREAKER = { failureThreshold: 5, resetSeconds: 30 };

/** One opossum breaker per source: a dead provider is skipped quickly instead of tying up workers. */
export class BreakerRegistry {
  private readonly breakers = new Map<string, { breaker: CircuitBreaker<[SnapshotRequest], Snapshot>; key: string }>();

  get(source: string, settings = DEFAULT_BREAKER): CircuitBreaker<[SnapshotRequest], Snapshot> {
    const key = `${settings.failureThreshold}/${settings.resetSeconds}`;
    const existing = this.breakers.get(source);
    if (existing && existing.key === key) return existing.breaker;
    existing?.breaker.shutdown();
    const breaker = new CircuitBreaker(fetchSnapshot, {
      name: `fetch:${source}`,
      timeout: false, // fetchSnapshot enforces its own connect/header/body deadlines
      volumeThreshold: settings.failureThreshold,
      errorThresholdPercentage: 50,
      rollingCountTimeout: 60_000,
      resetTimeout: settings.resetSeconds * 1000,
    });
    const gauge = (v: number) => () => metrics.breakerState.set({ breaker: `fetch:${source}` }, v);
    breaker.on('close', gauge(0));
    breaker.on('halfOpen', gauge(1));
    breaker.on('open', gauge(2));
    gauge(0)();
    this.breakers.set(source, { breaker, key });
    return breaker;
  }

  shutdown(): void {
    for (const { breaker } of this.breakers.values()) breaker.shutdown();
    this.breakers.clear();
  }
}

interface SourceState {
  etag: string | null;
  last_modified: string | null;
  content_hash: string | null;
}

async function loadState(pool: pg.Pool, source: string): Promise<SourceState | null> {
  const r = await pool.query<SourceState>('SELECT etag, last_modified, content_hash FROM plansync.sources WHERE name = $1', [source]);
  return r.rows[0] ?? null;
}

async function recordOutcome(
  pool: pg.Pool,
  source: string,
  result: FetchResult,
  error: string | null,
  validators?: { etag: string | null; lastModified: string | null; hash: string },
): Promise<void> {
  const success = result.outcome === 'ok' || result.outcome === 'not_modified' || result.outcome === 'unchanged';
  await pool.query(
    `INSERT INTO plansync.sources AS s (name, etag, last_modified, content_hash, last_fetch_at, last_success_at, last_outcome, last_error, plans_seen, plans_rejected)
     VALUES ($1, $2, $3, $4, now(), CASE WHEN $5 THEN now() END, $6, $7, $8, $9)
     ON CONFLICT (name) DO UPDATE SET
       etag = COALESCE($2, CASE WHEN $10 THEN NULL ELSE s.etag END),
       last_modified = COALESCE($3, CASE WHEN $10 THEN NULL ELSE s.last_modified END),
       content_hash = COALESCE($4, s.content_hash),
       last_fetch_at = now(),
       last_success_at = CASE WHEN $5 THEN now() ELSE s.last_success_at END,
       last_outcome = $6,
       last_error = $7,
       plans_seen = CASE WHEN $6 = 'ok' THEN $8 ELSE s.plans_seen END,
       plans_rejected = CASE WHEN $6 = 'ok' THEN $9 ELSE s.plans_rejected END,
       updated_at = now()`,
    [
      source,
      validators?.etag ?? null,
      validators?.lastModified ?? null,
      validators?.hash ?? null,
      success,
      result.outcome,
      error,
      result.plans,
      result.rejected,
      validators !== undefined,
    ],
  );
}

/** Snapshot with bounded in-job retries (full jitter); permanent failures and an open breaker are not retried. */
async function fetchWithRetry(deps: FetcherDeps, job: FetchJobData, req: SnapshotRequest, signal?: AbortSignal): Promise<Snapshot> {
  const retry = job.retry ?? DEFAULT_RETRY;
  const breaker = (deps.breakers ?? defaultBreakers).get(job.source, job.breaker ?? DEFAULT_BREAKER);
  for (let attempt = 0; ; attempt++) {
    try {
      return await breaker.fire(req);
    } catch (err) {
      const failure =
        err instanceof FetchFailure
          ? err
          : breaker.opened
            ? new FetchFailure('breaker_open', `circuit open for ${job.source}: provider skipped until it recovers`, false)
            : new FetchFailure('connection', (err as Error).message);
      if (!failure.retryable || attempt + 1 >= retry.attempts || signal?.aborted) throw failure;
      const delay = fullJitterDelay(attempt, retry, deps.random);
      deps.log.warn({ source: job.source, attempt: attempt + 1, delay, reason: failure.reason, err: failure.message }, 'fetch failed, retrying');
      await sleep(delay, signal);
    }
  }
}

const defaultBreakers = new BreakerRegistry();

const tracer = trace.getTracer('plansync-fetcher');

export function runFetch(deps: FetcherDeps, job: FetchJobData, signal?: AbortSignal): Promise<FetchResult> {
  return tracer.startActiveSpan('fetch', { attributes: { 'plansync.source': job.source } }, async (span) => {
    try {
      const result = await fetchOnce(deps, job, signal);
      span.setAttributes({ 'plansync.outcome': result.outcome, 'plansync.plans': result.plans, 'plansync.rejected': result.rejected });
      return result;
    } finally {
      span.end();
    }
  });
}

async function fetchOnce(deps: FetcherDeps, job: FetchJobData, signal?: AbortSignal): Promise<FetchResult> {
  const started = process.hrtime.bigint();
  const log = deps.log.child({ source: job.source });
  const result: FetchResult = { outcome: 'failed', plans: 0, rejected: 0, batches: 0, bytes: 0 };
  const state = await loadState(deps.pool, job.source);
  const timeoutMs = job.timeoutSeconds * 1000;
  let snapshot: Snapshot;
  try {
    snapshot = await fetchWithRetry(deps, job, {
      url: job.url,
      headers: job.headers,
      etag: state?.etag,
      lastModified: state?.last_modified,
      // timeoutSeconds bounds the whole request (a slow drip cannot hold a worker); silence is cut sooner.
      idleTimeoutMs: Math.min(timeoutMs, 10_000),
      totalTimeoutMs: timeoutMs,
      maxBodyBytes: job.maxBodyBytes ?? deps.maxBodyBytes,
    }, signal);
  } catch (err) {
    const failure = err as FetchFailure;
    result.outcome = failure.reason === 'breaker_open' ? 'breaker_open' : 'failed';
    result.reason = failure.reason ?? 'unknown';
    metrics.fetches.inc({ source: job.source, outcome: result.outcome, reason: result.reason });
    await recordOutcome(deps.pool, job.source, result, failure.message);
    log.warn({ reason: result.reason, err: failure.message }, 'fetch failed; stored plans untouched');
    return result;
  }

  try {
    if (snapshot.status === 'not_modified') {
      result.outcome = 'not_modified';
      await recordOutcome(deps.pool, job.source, result, null);
      return result;
    }
    result.bytes = snapshot.bytes;
    if (state?.content_hash === snapshot.sha256) {
      result.outcome = 'unchanged';
      await recordOutcome(deps.pool, job.source, result, null, { etag: snapshot.etag, lastModified: snapshot.lastModified, hash: snapshot.sha256 });
      return result;
    }
    const parseError = await parseAndEnqueue(deps, job, snapshot.file, result, log);
    if (parseError) {
      // The plans read before the fault are complete and valid, and were kept; the rest of the
      // snapshot is unknown, so nothing is inferred from it and its hash is not remembered.
      result.outcome = 'partial';
      result.reason = parseError.message.includes('truncated') ? 'truncated' : 'malformed';
      await recordOutcome(deps.pool, job.source, result, parseError.message);
      log.warn({ reason: result.reason, err: parseError.message, plans: result.plans }, 'snapshot unreadable past a point; kept what was read');
    } else {
      result.outcome = 'ok';
      await recordOutcome(deps.pool, job.source, result, null, { etag: snapshot.etag, lastModified: snapshot.lastModified, hash: snapshot.sha256 });
    }
    metrics.fetches.inc({ source: job.source, outcome: result.outcome, reason: result.reason ?? '' });
    return result;
  } finally {
    if (snapshot.status === 'ok') await snapshot.cleanup();
    metrics.fetchDuration.observe({ source: job.source }, Number(process.hrtime.bigint() - started) / 1e9);
    log.info({ outcome: result.outcome, plans: result.plans, rejected: result.rejected, batches: result.batches, bytes: result.bytes }, 'fetch done');
  }
}

async function parseAndEnqueue(deps: FetcherDeps, job: FetchJobData, file: string, result: FetchResult, log: Logger): Promise<XmlFormatError | null> {
  const fetchId = randomUUID();
  const observedAt = new Date().toISOString();
  let batch: NormalizedPlan[] = [];
  const rejectionsByReason = new Map<string, number>();
  const send = (plans: NormalizedPlan[]) =>
    deps.enqueue({ source: job.source, timezone: job.timezone, observedAt, fetchId, seq: result.batches++, plans });
  const onReject = (r: Rejection) => {
    result.rejected++;
    rejectionsByReason.set(r.reason, (rejectionsByReason.get(r.reason) ?? 0) + 1);
    metrics.plansRejected.inc({ source: job.source, reason: r.reason });
    // Log the first few in full; the counters carry the rest without flooding the log.
    if (result.rejected <= 20) log.warn({ rejection: r }, 'plan rejected');
  };
  const parser = new PlanListParser(job.source, {
    plan: (p) => {
      result.plans++;
      batch.push(p);
    },
    reject: onReject,
  });
  let error: XmlFormatError | null = null;
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      parser.write(chunk);
      // Backpressure: enqueue full batches before reading on, so memory holds at most one chunk's plans.
      while (batch.length >= deps.batchSize) {
        await send(batch.slice(0, deps.batchSize));
        batch = batch.slice(deps.batchSize);
      }
    }
    parser.end();
  } catch (err) {
    if (!(err instanceof XmlFormatError)) throw err;
    error = err;
    stream.destroy();
  }
  if (batch.length > 0) await send(batch);
  if (rejectionsByReason.size > 0) log.warn({ rejected: Object.fromEntries(rejectionsByReason) }, 'plans rejected in snapshot');
  return error;
}
