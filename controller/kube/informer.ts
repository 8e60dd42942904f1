// A list+watch cache of PlanSources, hardened against what bites client-node informers in
// production: watches that go silent without closing (half-open TCP), 410 Gone after etcd
// compaction, errors that end the watch, and events lost in between. Recovery is always "relist
// and diff against the cache", so a missed delete still surfaces as a delete.
import type { Logger } from '../../services/core/logger.js';
import { fullJitterDelay, sleep } from '../../services/core/backoff.js';
import { sourceKey, type PlanSource } from '../plansource/types.js';
import { statusOf, type KubeClient, type WatchPhase } from './client.js';

export interface InformerOptions {
  /** null = all namespaces */
  namespace: string | null;
  /** Full relist (and resync of every key) this often. */
  relistMs?: number;
  /** No event, not even a bookmark, for this long means the watch is dead: restart it. */
  silenceMs?: number;
  /** Server-side watch timeout; the watch is resumed from the last resourceVersion after it. */
  watchTimeoutSeconds?: number;
  onChange: (key: string, obj: PlanSource | null) => void;
  onRestart?: (reason: string) => void;
}

export class PlanSourceInformer {
  private readonly cache = new Map<string, PlanSource>();
  private resourceVersion = '';
  private synced = false;
  private stopped = false;
  private abort: AbortController | null = null;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private lastEventAt = Date.now();
  private restartReason: string | null = null;

  constructor(
    private readonly kube: KubeClient,
    private readonly log: Logger,
    private readonly opts: InformerOptions,
  ) {}

  get(key: string): PlanSource | undefined {
    return this.cache.get(key);
  }

  keys(): string[] {
    return [...this.cache.keys()];
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves after the first successful list. */
  async start(): Promise<void> {
    await this.relist();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
    await this.loop;
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.kube.listPlanSources(this.opts.namespace);
    const seen = new Set<string>();
    for (const obj of items) {
      const key = sourceKey(obj);
      seen.add(key);
      this.cache.set(key, obj);
      // Every key is handed out on relist (a resync): reconcile is idempotent, and a periodic
      // pass repairs drift outside Kubernetes (e.g. a schedule deleted by hand in Postgres).
      this.opts.onChange(key, obj);
    }
    for (const key of [...this.cache.keys()]) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.opts.onChange(key, null); // deleted while we were not watching
      }
    }
    this.resourceVersion = resourceVersion;
    this.synced = true;
  }

  private async run(): Promise<void> {
    const relistMs = this.opts.relistMs ?? 5 * 60_000;
    const silenceMs = this.opts.silenceMs ?? 90_000;
    let failures = 0;
    let nextRelist = Date.now() + relistMs;
    while (!this.stopped) {
      let reason: string;
      try {
        reason = await this.watchOnce(Math.min(silenceMs, Math.max(1000, nextRelist - Date.now())), nextRelist);
        failures = 0;
      } catch (err) {
        reason = `watch error: ${(err as Error).message}`;
        failures++;
      }
      if (this.stopped) break;
      // A clean server-side timeout or a silent watch resumes from the last resourceVersion (a 410
      // then forces a relist); errors and the periodic pass relist and diff.
      const resumable = reason === 'timeout' || reason === 'watch silent';
      const mustRelist = !resumable || Date.now() >= nextRelist;
      if (reason !== 'timeout') {
        this.log.warn({ reason, resourceVersion: this.resourceVersion }, 'PlanSource watch restarted');
        this.opts.onRestart?.(reason);
      }
      if (failures > 0) await sleep(Math.max(200, fullJitterDelay(failures, { baseDelayMs: 200, maxDelayMs: 10_000 })));
      if (!mustRelist) continue;
      try {
        await this.relist();
        nextRelist = Date.now() + relistMs;
      } catch (err) {
        failures++;
        this.log.warn({ err: { message: (err as Error).message, status: statusOf(err) } }, 'PlanSource relist failed; retrying');
      }
    }
  }

  /** One watch from the cached resourceVersion. Resolves with why it ended. */
  private watchOnce(silenceMs: number, relistAt: number): Promise<string> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (reason: string, err?: unknown) => {
        if (settled) return;
        settled = true;
        clearInterval(guard);
        this.wake = null;
        this.abort?.abort();
        if (err) reject(err);
        else resolve(reason);
      };
      this.lastEventAt = Date.now();
      this.restartReason = null;
      const guard = setInterval(() => {
        if (Date.now() - this.lastEventAt > silenceMs) finish(Date.now() >= relistAt ? 'periodic relist' : 'watch silent');
        else if (Date.now() >= relistAt) finish('periodic relist');
      }, Math.min(1000, silenceMs / 4));
      guard.unref();
      this.wake = () => finish('stopped');
      const timeout = this.opts.watchTimeoutSeconds ?? 240 + Math.floor(Math.random() * 120);
      this.kube
        .watchPlanSources(
          this.opts.namespace,
          this.resourceVersion,
          timeout,
          (phase, obj) => {
            if (settled) return;
            this.lastEventAt = Date.now();
            this.onEvent(phase, obj);
            if (this.restartReason) finish(this.restartReason);
          },
          (err) => {
            if (err && (err as Error).name !== 'AbortError') finish('error', err);
            else finish(this.restartReason ?? 'timeout');
          },
          silenceMs + 5000, // ours fires first
        )
        .then((ac) => {
          this.abort = ac;
          if (settled) ac.abort();
        })
        .catch((err) => finish('error', err));
    });
  }

  private onEvent(phase: WatchPhase, obj: PlanSource & { code?: number }): void {
    switch (phase) {
      case 'BOOKMARK':
        if (obj.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
        return;
      case 'ERROR':
        // 410 Gone: our resourceVersion was compacted away; only a relist can recover.
        this.restartReason = obj.code === 410 ? 'resourceVersion expired (410)' : `watch ERROR event ${obj.code ?? ''}`;
        return;
      case 'ADDED':
      case 'MODIFIED': {
        const key = sourceKey(obj);
        this.cache.set(key, obj);
        this.resourceVersion = obj.metadata.resourceVersion ?? this.resourceVersion;
        this.opts.onChange(key, obj);
        return;
      }
      case 'DELETED': {
        const key = sourceKey(obj);
        this.cache.delete(key);
        this.resourceVersion = obj.metadata.resourceVersion ?? this.resourceVersion;
        this.opts.onChange(key, null);
        return;
      }
    }
  }
}
