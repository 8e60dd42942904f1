// Controller scale: N PlanSources (default 1,000) applied to a real kube-apiserver + etcd (the test
// environment from `make testenv`, or BENCH_KUBECONFIG), one controller process (the built CLI,
// leader election on). Reports time until every source is Ready for its generation, reconcile
// latency percentiles from the controller's own histogram, and controller memory.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { createPool } from '../services/core/db.js';
import { migrate } from '../services/core/migrate.js';
import { projectRoot } from '../services/core/paths.js';
import type { PlanSource } from '../controller/plansource/types.js';
import { KubeClient } from '../controller/kube/client.js';
import { benchPostgres, emit, freePort, machine, peakRssMb, round, rssMb, spawnCli, stopChild, table, waitFor } from './lib.js';

const COUNT = Number(process.env.BENCH_CONTROLLER_SOURCES ?? 1000);
const NAMESPACE = 'bench';
// As the Helm chart runs it (controller.nodeOptions).
const CONTROLLER_NODE_ARGS = (process.env.BENCH_CONTROLLER_NODE_OPTIONS ?? '--max-old-space-size=128 --max-semi-space-size=4').split(' ').filter(Boolean);
const INTERVAL_MINUTES = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60];

interface KubeEnv {
  kubeconfig: string;
  stop(): Promise<void>;
}

/** histogram_quantile over prom-client's cumulative buckets, as PromQL computes it. */
export function histogramQuantile(q: number, buckets: { le: number; count: number }[]): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / Math.max(1, b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

function parseBuckets(metricsText: string, name: string): { le: number; count: number }[] {
  const re = new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\d+)`, 'gm');
  return [...metricsText.matchAll(re)].map((m) => ({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), count: Number(m[2]) }));
}

export async function benchController(): Promise<Record<string, unknown>> {
  let env: KubeEnv;
  if (process.env.BENCH_KUBECONFIG) env = { kubeconfig: process.env.BENCH_KUBECONFIG, stop: async () => {} };
  else {
    const mod = (await import(pathToFileURL(join(projectRoot(), 'test', 'env', 'kube', 'kube-env.mjs')).href)) as {
      startKubeEnv(): Promise<KubeEnv>;
      applyCrds(k: string): Promise<void>;
    };
    env = await mod.startKubeEnv();
    await mod.applyCrds(env.kubeconfig);
  }
  const pg = await benchPostgres();
  const pool = createPool(pg.url, 2);
  await migrate(pool);
  const kc = new KubeConfig();
  kc.loadFromFile(env.kubeconfig);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const kube = new KubeClient(kc);
  await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } }).catch(() => {});
  const metricsPort = await freePort();
  const controller = spawnCli(['controller', '--kubeconfig', env.kubeconfig], {
    DATABASE_URL: pg.url,
    POD_NAMESPACE: NAMESPACE,
    POD_NAME: 'bench-controller',
    LOG_LEVEL: process.env.BENCH_CONTROLLER_LOG_LEVEL ?? 'warn',
    METRICS_PORT: String(metricsPort),
    HOST: '127.0.0.1',
  }, CONTROLLER_NODE_ARGS);
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).ok && (await kube.readLease(NAMESPACE, 'plansync-controller'))?.holder === 'bench-controller', 60_000, 'controller leading');
    const idleRssMb = rssMb(controller.pid!);

    const started = performance.now();
    let next = 0;
    const create = async () => {
      for (let i = next++; i < COUNT; i = next++) {
        const body = {
          apiVersion: 'plansync.dev/v1alpha1',
          kind: 'PlanSource',
          metadata: { name: `source-${String(i).padStart(5, '0')}`, namespace: NAMESPACE },
          spec: { provider: { url: `http://provider-${i % 50}.example/api/events?id=${i}` }, schedule: { intervalSeconds: 60 * INTERVAL_MINUTES[i % INTERVAL_MINUTES.length]! } },
        };
        await objects.create(body as KubernetesObject);
      }
    };
    await Promise.all(Array.from({ length: 16 }, create));
    process.stderr.write(`controller bench: ${COUNT} PlanSources created in ${round((performance.now() - started) / 1000, 1)} s\n`);
    const createdSeconds = (performance.now() - started) / 1000;
    let ready = 0;
    const progress = setInterval(() => process.stderr.write(`controller bench: ${ready}/${COUNT} Ready after ${round((performance.now() - started) / 1000, 1)} s\n`), 5000);
    await waitFor(
      async () => {
        const { items } = await kube.listPlanSources(NAMESPACE);
        ready = items.filter((p: PlanSource) => p.status?.observedGeneration === p.metadata.generation && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
        return ready === COUNT;
      },
      600_000,
      `all ${COUNT} PlanSources Ready`,
    );
    clearInterval(progress);
    const allReadySeconds = (performance.now() - started) / 1000;
    const schedules = (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pgboss.schedule WHERE name = 'fetch'`)).rows[0]!.n;
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const buckets = parseBuckets(text, 'controller_runtime_reconcile_time_seconds');
    const result = {
      bench: 'controller',
      sources: COUNT,
      createSeconds: round(createdSeconds, 2),
      allReadySeconds: round(allReadySeconds, 2),
      schedules,
      reconcileP50Ms: round(histogramQuantile(0.5, buckets) * 1000, 1),
      reconcileP99Ms: round(histogramQuantile(0.99, buckets) * 1000, 1),
      reconciles: buckets.at(-1)?.count ?? 0,
      controllerIdleRssMb: idleRssMb,
      controllerRssMb: rssMb(controller.pid!),
      controllerPeakRssMb: peakRssMb(controller.pid!),
      controllerNodeOptions: CONTROLLER_NODE_ARGS.join(' '),
      machine: machine(),
    };
    if (schedules !== COUNT) throw new Error(`expected ${COUNT} schedules, found ${schedules}`);
    emit(result);
    table('controller (real kube-apiserver + etcd)', [
      { sources: COUNT, 'created s': result.createSeconds, 'all Ready s': result.allReadySeconds, 'reconcile p50 ms': result.reconcileP50Ms, 'p99 ms': result.reconcileP99Ms, 'RSS MB': result.controllerRssMb, 'peak MB': result.controllerPeakRssMb },
    ]);
    return result;
  } finally {
    await stopChild(controller);
    await pool.end();
    await pg.stop();
    await env.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchController();
  process.exit(0);
}
