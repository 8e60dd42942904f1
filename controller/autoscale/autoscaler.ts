// The I/O half of the autoscaler: reads queue depth per source from pg-boss's job table, asks the
// pure decideReplicas() for a replica count, and applies it to a target (a Deployment's scale
// subresource in Kubernetes, the local processor's concurrency in file mode).
import { resolve } from 'node:path';
import type pg from 'pg';
import type { Config } from '../../services/core/config.js';
import type { Logger } from '../../services/core/logger.js';
import { loadPlanSources, type LoadedSource } from '../file-mode/file-sources.js';
import { QUEUE } from '../../services/core/queues.js';
import { controllerMetrics } from '../operator/metrics.js';
import { resolveSpec } from '../plansource/resolve.js';
import { decideReplicas, initialAutoscaleState, type AutoscaleDecision, type ProcessorPolicy, type SourceLoad } from './hpa.js';


export interface ScaleTarget {
  /** null: the target does not exist (yet); nothing is scaled. */
  current(): Promise<number | null>;
  set(replicas: number): Promise<void>;
  describe(): string;
}

/** File mode: the in-process processor's concurrency plays the role of replicas (never below 1). */
export function localConcurrencyTarget(worker: { concurrency(): number; setConcurrency(n: number): Promise<void> }): ScaleTarget {
  return {
    current: async () => worker.concurrency(),
    set: (n) => worker.setConcurrency(Math.max(1, n)),
    describe: () => 'local processor concurrency',
  };
}

export const DEFAULT_POLICY: ProcessorPolicy = resolveSpec({ provider: { url: 'http://default' } }).processor;

/** Queued + retrying + active process jobs per source (deferred retries count: they are work). */
export async function queueDepthBySource(pool: pg.Pool): Promise<Map<string, number>> {
  const r = await pool.query<{ source: string | null; n: number }>(
    `SELECT data->>'source' AS source, count(*)::int AS n FROM pgboss.job
      WHERE name = $1 AND state IN ('created', 'retry', 'active') GROUP BY 1`,
    [QUEUE.process],
  );
  return new Map(r.rows.map((row) => [row.source ?? '', row.n]));
}

export interface AutoscalerOptions {
  pool: pg.Pool;
  log: Logger;
  target: ScaleTarget;
  /** The sources and their policies right now. */
  sources: () => { key: string; policy: ProcessorPolicy }[];
  globalMax: number;
  intervalMs?: number;
  /** Floor applied by the target (file mode keeps one in-process worker). */
  minReplicas?: number;
}

export class Autoscaler {
  private state = initialAutoscaleState();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private loads = new Map<string, { queueDepth: number; workers: number }>();

  constructor(private readonly opts: AutoscalerOptions) {}

  load(key: string): { queueDepth: number; workers: number } | undefined {
    return this.loads.get(key);
  }

  start(): void {
    const tick = () => {
      this.running = this.running.then(async () => void (await this.tick())).catch((err) => this.opts.log.warn({ err }, 'autoscaler tick failed'));
    };
    tick();
    this.timer = setInterval(tick, this.opts.intervalMs ?? 15_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One decision; exposed for tests and benchmarks. */
  async tick(now = Date.now()): Promise<AutoscaleDecision | null> {
    const depth = await queueDepthBySource(this.opts.pool);
    const declared = this.opts.sources();
    const known = new Set(declared.map((s) => s.key));
    const loads: SourceLoad[] = declared.map((s) => ({ key: s.key, policy: s.policy, depth: depth.get(s.key) ?? 0 }));
    // Batches of a source deleted since they were fetched still need a worker.
    const orphaned = [...depth].filter(([k]) => !known.has(k)).reduce((n, [, d]) => n + d, 0);
    if (orphaned > 0) loads.push({ key: '', policy: DEFAULT_POLICY, depth: orphaned });
    const current = await this.opts.target.current();
    const total = [...depth.values()].reduce((a, b) => a + b, 0);
    controllerMetrics.observedDepth.set(total);
    if (current === null) return null;
    const decision = decideReplicas({ current, sources: loads, globalMax: this.opts.globalMax, now, state: this.state });
    this.state = decision.state;
    this.loads = new Map(loads.map((l) => [l.key, { queueDepth: l.depth, workers: decision.perSource[l.key] ?? 0 }]));
    const desired = Math.max(this.opts.minReplicas ?? 0, decision.desired);
    controllerMetrics.desiredReplicas.set(desired);
    if (desired !== current) {
      await this.opts.target.set(desired);
      this.opts.log.info({ target: this.opts.target.describe(), from: current, to: desired, depth: total, reason: decision.reason }, 'processor scaled');
    }
    return decision;
  }
}

/**
 * File mode: a processor scales its own concurrency from the queue depth, with the policies of the
 * PlanSource files. `declared` gives the sources when a FileSourceController in the same process
 * already reads them (make run); otherwise (docker compose) the files are re-read every tick.
 */
export function startLocalAutoscaler(
  config: Config,
  log: Logger,
  pool: pg.Pool,
  worker: { concurrency(): number; setConcurrency(n: number): Promise<void> },
  declared: () => LoadedSource[] = () => loadPlanSources(resolve(config.PLANSOURCES_DIR)).sources,
): Autoscaler {
  const scaler = new Autoscaler({
    pool,
    log: log.child({ subsystem: 'autoscaler' }),
    target: localConcurrencyTarget(worker),
    sources: () =>
      declared()
        .filter((s) => !s.spec.suspend)
        .map((s) => ({ key: s.key, policy: s.spec.processor })),
    globalMax: Math.max(1, Math.min(config.PROCESSOR_MAX_REPLICAS, Math.floor(config.DB_POOL_MAX / 2))),
    intervalMs: config.AUTOSCALE_INTERVAL_SECONDS * 1000,
    minReplicas: 1,
  });
  scaler.start();
  return scaler;
}
