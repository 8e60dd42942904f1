// The PlanSource operator: leader election, then informers -> work queue -> reconcile workers,
// and the processor autoscaler. Only the leader writes; standbys keep campaigning.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Config } from '../../services/core/config.js';
import type { Logger } from '../../services/core/logger.js';
import { backoffCeiling, sleep } from '../../services/core/backoff.js';
import { Autoscaler, DEFAULT_POLICY, type ScaleTarget } from '../autoscale/autoscaler.js';
import { KubeClient, statusOf, messageOf } from '../kube/client.js';
import { PlanSourceInformer } from '../kube/informer.js';
import { LeaderElector } from '../kube/leader.js';
import { WorkQueue } from '../kube/workqueue.js';
import { reconcilePlanSource } from '../plansource/reconcile.js';
import { resolveSpec } from '../plansource/resolve.js';
import type { PlanSource } from '../plansource/types.js';
import { pruneSchedules } from '../schedule/schedules.js';
import { controllerMetrics as m } from './metrics.js';

const CONTROLLER = 'plansource';

export interface OperatorDeps {
  config: Config;
  log: Logger;
  kube: KubeClient;
  boss: PgBoss;
  pool: pg.Pool;
  /** Called when leadership is lost; the CLI exits the process. */
  onLostLeadership?: () => void;
}

export class Operator {
  readonly identity: string;
  readonly namespace: string;
  private elector: LeaderElector | null = null;
  private informers: PlanSourceInformer[] = [];
  private queue: WorkQueue | null = null;
  private workers: Promise<void>[] = [];
  private autoscaler: Autoscaler | null = null;
  private leading = false;
  private stopped = false;

  constructor(private readonly deps: OperatorDeps) {
    const { config, kube } = deps;
    this.identity = config.POD_NAME ?? `${hostname()}-${randomBytes(3).toString('hex')}`;
    this.namespace = config.POD_NAMESPACE ?? kube.defaultNamespace();
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Ready: a standby is ready to take over; a leader once its caches have synced. */
  ready(): boolean {
    return !this.leading || (this.informers.length > 0 && this.informers.every((i) => i.hasSynced()));
  }

  async start(): Promise<void> {
    const { config, log, kube } = this.deps;
    m.maxWorkers.set({ controller: CONTROLLER }, config.RECONCILE_WORKERS);
    if (!config.LEADER_ELECTION) {
      await this.startLeading();
      return;
    }
    m.leader.set({ name: config.LEADER_ELECTION_ID }, 0);
    this.elector = new LeaderElector(kube, log, {
      namespace: this.namespace,
      name: config.LEADER_ELECTION_ID,
      identity: this.identity,
      leaseDurationMs: config.LEASE_DURATION_SECONDS * 1000,
      renewDeadlineMs: config.RENEW_DEADLINE_SECONDS * 1000,
      retryPeriodMs: config.RETRY_PERIOD_SECONDS * 1000,
      onStartedLeading: () => this.startLeading(),
      onStoppedLeading: () => {
        m.leader.set({ name: config.LEADER_ELECTION_ID }, 0);
        log.error({ identity: this.identity }, 'lost leadership');
        void this.stopLeading().finally(() => (this.deps.onLostLeadership ?? (() => process.exit(1)))());
      },
      onNewLeader: (holder) => log.info({ leader: holder || '(none)' }, 'lease holder changed'),
    });
    this.elector.start();
  }

  private async startLeading(): Promise<void> {
    if (this.stopped || this.leading) return;
    const { config, log } = this.deps;
    this.leading = true;
    m.leader.set({ name: config.LEADER_ELECTION_ID }, 1);
    const queue = new WorkQueue(
      { baseDelayMs: 5, maxDelayMs: 5 * 60_000 },
      {
        onAdd: () => m.workqueueAdds.inc({ name: CONTROLLER }),
        onRetry: () => m.workqueueRetries.inc({ name: CONTROLLER }),
        onDepth: (d) => m.workqueueDepth.set({ name: CONTROLLER }, d),
      },
    );
    this.queue = queue;
    const namespaces = config.WATCH_NAMESPACES.length > 0 ? config.WATCH_NAMESPACES : [null];
    this.informers = namespaces.map(
      (namespace) =>
        new PlanSourceInformer(this.deps.kube, log.child({ informer: namespace ?? '*' }), {
          namespace,
          relistMs: config.INFORMER_RELIST_SECONDS * 1000,
          silenceMs: config.WATCH_SILENCE_SECONDS * 1000,
          onChange: (key) => queue.add(key),
          onRestart: (reason) => m.watchRestarts.inc({ reason: reason.split(':')[0]!.slice(0, 40) }),
        }),
    );
    for (const inf of this.informers) await this.retryUntilStopped(() => inf.start(), 'initial PlanSource list');
    if (this.stopped) return;
    // Schedules of sources deleted while no controller ran (finalizer removed by hand).
    const owns = (key: string) => config.WATCH_NAMESPACES.length === 0 || config.WATCH_NAMESPACES.includes(key.split('/')[0]!);
    const removed = await pruneSchedules(this.deps.boss, new Set(this.informers.flatMap((i) => i.keys())), owns);
    if (removed.length > 0) log.info({ removed }, 'removed schedules of PlanSources that no longer exist');

    this.autoscaler = new Autoscaler({
      pool: this.deps.pool,
      log: log.child({ subsystem: 'autoscaler' }),
      target: deploymentTarget(this.deps.kube, this.namespace, config.PROCESSOR_DEPLOYMENT),
      sources: () => this.sourcePolicies(),
      globalMax: config.PROCESSOR_MAX_REPLICAS,
      intervalMs: config.AUTOSCALE_INTERVAL_SECONDS * 1000,
    });
    this.autoscaler.start();
    for (let i = 0; i < config.RECONCILE_WORKERS; i++) this.workers.push(this.worker(queue));
    log.info({ namespaces: config.WATCH_NAMESPACES.length ? config.WATCH_NAMESPACES : 'all', sources: this.informers.reduce((n, i) => n + i.keys().length, 0) }, 'controller started');
  }

  private async retryUntilStopped(fn: () => Promise<void>, what: string): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        return await fn();
      } catch (err) {
        this.deps.log.warn({ err: { message: messageOf(err), status: statusOf(err) }, attempt }, `${what} failed; retrying`);
        await sleep(backoffCeiling(attempt, { baseDelayMs: 500, maxDelayMs: 10_000 }));
      }
    }
  }

  private sourcePolicies() {
    return this.informers.flatMap((inf) =>
      inf
        .keys()
        .map((key) => ({ key, obj: inf.get(key)! }))
        .filter(({ obj }) => obj && !obj.metadata.deletionTimestamp && !obj.spec?.suspend)
        .map(({ key, obj }) => {
          try {
            return { key, policy: resolveSpec(obj.spec).processor };
          } catch {
            return { key, policy: DEFAULT_POLICY };
          }
        }),
    );
  }

  private lookup(key: string): PlanSource | undefined {
    for (const inf of this.informers) {
      const obj = inf.get(key);
      if (obj) return obj;
    }
    return undefined;
  }

  private async worker(queue: WorkQueue): Promise<void> {
    const { log, config } = this.deps;
    for (;;) {
      const key = await queue.get();
      if (key === null) return;
      m.activeWorkers.inc({ controller: CONTROLLER });
      const started = performance.now();
      try {
        const result = await reconcilePlanSource(
          {
            api: this.deps.kube,
            boss: this.deps.boss,
            pool: this.deps.pool,
            log,
            event: (ps, ev) =>
              void this.deps.kube.createEvent(ps, ev, 'plansync-controller', this.identity).catch((err) => log.debug({ err: { message: messageOf(err) } }, 'event not recorded')),
            load: (k) => this.autoscaler?.load(k),
            statusRefreshMs: config.STATUS_REFRESH_SECONDS * 1000,
          },
          key,
          this.lookup(key),
        );
        queue.forget(key);
        if (result.requeueAfterMs) {
          queue.addAfter(key, result.requeueAfterMs);
          m.reconcileTotal.inc({ controller: CONTROLLER, result: 'requeue_after' });
        } else m.reconcileTotal.inc({ controller: CONTROLLER, result: 'success' });
      } catch (err) {
        m.reconcileTotal.inc({ controller: CONTROLLER, result: 'error' });
        m.reconcileErrors.inc({ controller: CONTROLLER });
        const delay = queue.addRateLimited(key);
        // A 409 means our cached copy was stale: normal, the next pass reads the newer object.
        const level = statusOf(err) === 409 ? 'debug' : 'warn';
        log[level]({ source: key, err: { message: messageOf(err), status: statusOf(err) }, retryInMs: delay }, 'reconcile failed');
      } finally {
        m.reconcileTime.observe({ controller: CONTROLLER }, (performance.now() - started) / 1000);
        m.activeWorkers.dec({ controller: CONTROLLER });
        queue.done(key);
      }
    }
  }

  private async stopLeading(): Promise<void> {
    this.leading = false;
    this.queue?.shutDown();
    await Promise.all(this.informers.map((i) => i.stop()));
    await Promise.all(this.workers);
    await this.autoscaler?.stop();
    this.workers = [];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.stopLeading();
    await this.elector?.stop();
    m.leader.set({ name: this.deps.config.LEADER_ELECTION_ID }, 0);
  }
}

/** The processor Deployment, scaled through its scale subresource like the HPA does. */
export function deploymentTarget(kube: KubeClient, namespace: string, name: string): ScaleTarget {
  return {
    current: () => kube.readDeploymentReplicas(namespace, name),
    set: (n) => kube.scaleDeployment(namespace, name, n),
    describe: () => `deployment/${namespace}/${name}`,
  };
}
