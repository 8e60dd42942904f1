// The operator when the control plane misbehaves: its API server killed while PlanSources are
// created, changed and deleted elsewhere (an HA peer on the same etcd), etcd compacted meanwhile
// so the old resourceVersion is gone (410); and two controller processes electing one leader.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PgBoss } from 'pg-boss';
import { loadConfig } from '../../services/core/config.js';
import { QUEUE, startBoss } from '../../services/core/queues.js';
import { registry } from '../../services/core/metrics.js';
import { KubeClient, loadKubeConfig } from '../../controller/kube/client.js';
import { Operator } from '../../controller/operator/operator.js';
import { startApiserver, type Apiserver } from '../env/kube/kube-env.mjs';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { silentLog } from '../helpers/ingest.js';
import { testKube, type TestKube } from '../helpers/kube.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { projectRoot } from '../../services/core/paths.js';

let db: TestDatabase;
let boss: PgBoss;
let kube: TestKube;

beforeAll(async () => {
  db = await createTestDatabase();
  boss = await startBoss(db.url, silentLog, { supervise: false });
  kube = await testKube();
});

afterAll(async () => {
  await kube?.cleanup();
  await boss?.stop({ graceful: false });
  await db?.drop();
});

const schedule = (name: string) => boss.getSchedule(QUEUE.fetch, `${kube.namespace}/${name}`);

async function etcdCompact(etcdUrl: string): Promise<number> {
  const r = (await (await fetch(`${etcdUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64') }) })).json()) as {
    header: { revision: string };
  };
  const revision = Number(r.header.revision);
  const c = await fetch(`${etcdUrl}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision, physical: true }) });
  expect(c.ok).toBe(true);
  return revision;
}

describe('API server restart', () => {
  let apiserver: Apiserver;
  let operator: Operator;

  afterAll(async () => {
    await operator?.stop();
    await apiserver?.stop();
  });

  it('misses no create, update or delete made while its API server was down and etcd compacted', async () => {
    // Our own API server on the run's etcd: an HA peer of the shared one, so changes made through
    // the shared server while ours is down are stored, and ours must catch up when it returns.
    const etcdUrl = process.env.PLANSYNC_TEST_ETCD_URL;
    if (!etcdUrl) throw new Error('PLANSYNC_TEST_ETCD_URL not set: this suite needs the local test control plane (global setup)');
    apiserver = await startApiserver({ etcdUrl, dir: mkdtempSync(join(tmpdir(), 'plansync-apiserver-')) });
    const config = loadConfig({
      DATABASE_URL: db.url,
      POD_NAMESPACE: kube.namespace,
      WATCH_NAMESPACES: kube.namespace,
      STATUS_REFRESH_SECONDS: '5',
      LEADER_ELECTION: 'false',
      WATCH_SILENCE_SECONDS: '5',
    });
    operator = new Operator({ config, log: silentLog, kube: new KubeClient(loadKubeConfig(apiserver.kubeconfig)), boss, pool: db.pool, onLostLeadership: () => {} });
    await operator.start();

    await kube.applyPlanSource('early', { provider: { url: 'http://p.example/early' } });
    await kube.applyPlanSource('mod', { provider: { url: 'http://p.example/mod' } });
    await waitFor(() => schedule('early'), 10_000, 'early scheduled');
    await waitFor(() => schedule('mod'), 10_000, 'mod scheduled');
    await waitFor(async () => (await kube.getPlanSource('early'))?.metadata.finalizers?.length, 10_000, 'finalizer');

    await apiserver.stop('SIGKILL');
    await kube.applyPlanSource('late', { provider: { url: 'http://p.example/late' } });
    await kube.patchPlanSourceSpec('mod', { schedule: { intervalSeconds: 600 } });
    await kube.deletePlanSource('early'); // held by our finalizer until the controller sees it
    // Many more writes, then compaction: the controller's last resourceVersion no longer exists.
    for (let i = 0; i < 20; i++) await kube.core.createNamespacedConfigMap({ namespace: kube.namespace, body: { metadata: { name: `noise-${i}` } } });
    await etcdCompact(etcdUrl);
    await new Promise((r) => setTimeout(r, 1000));
    await apiserver.start();

    await waitFor(() => schedule('late'), 30_000, 'late scheduled');
    await waitFor(async () => (await schedule('mod'))?.cron === '*/10 * * * *', 30_000, 'mod updated');
    await waitFor(async () => (await kube.getPlanSource('early')) === null, 30_000, 'early finalized and deleted');
    expect(await schedule('early')).toBeNull();
    const restarts = await registry.getSingleMetric('plansync_controller_watch_restarts_total')!.get();
    expect(restarts.values.reduce((n, v) => n + v.value, 0)).toBeGreaterThan(0);
  });
});

describe('leader election between two controller processes', () => {
  const procs: ChildProcess[] = [];
  afterAll(() => {
    for (const p of procs) p.kill('SIGKILL');
  });

  const leaderOf = async () => (await kube.client.readLease(kube.namespace, 'plansync-controller'))?.holder;
  const masterStatus = async (port: number) => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return Number(/^leader_election_master_status\{name="plansync-controller"\} (\d)/m.exec(text)?.[1] ?? NaN);
  };

  it('exactly one leader reconciles; when it is killed the other takes over', async () => {
    const ports = [await freePort(), await freePort()];
    const start = (name: string, port: number) => {
      const child = spawn(process.execPath, [join(projectRoot(), 'dist/services/cli.js'), 'controller', '--kubeconfig', process.env.PLANSYNC_TEST_KUBECONFIG!], {
        env: {
          ...process.env,
          DATABASE_URL: db.url,
          POD_NAMESPACE: kube.namespace,
          WATCH_NAMESPACES: kube.namespace,
          POD_NAME: name,
          METRICS_PORT: String(port),
          HOST: '127.0.0.1',
          LEASE_DURATION_SECONDS: '4',
          RENEW_DEADLINE_SECONDS: '3',
          RETRY_PERIOD_SECONDS: '1',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      procs.push(child);
      return child;
    };
    const a = start('controller-a', ports[0]!);
    const b = start('controller-b', ports[1]!);
    const first = await waitFor(leaderOf, 20_000, 'a leader');
    await waitFor(async () => !Number.isNaN(await masterStatus(ports[0]!)) && !Number.isNaN(await masterStatus(ports[1]!)), 20_000, 'metrics up');
    // Sample for a while: never two leaders.
    for (let i = 0; i < 12; i++) {
      const s = [await masterStatus(ports[0]!), await masterStatus(ports[1]!)];
      expect(s[0]! + s[1]!).toBe(1);
      await new Promise((r) => setTimeout(r, 250));
    }
    await kube.applyPlanSource('one', { provider: { url: 'http://p.example/one' } });
    await waitFor(() => schedule('one'), 15_000, 'leader reconciled');

    const [leader, standby, standbyPort] = first === 'controller-a' ? [a, 'controller-b', ports[1]!] : [b, 'controller-a', ports[0]!];
    leader.kill('SIGKILL'); // no graceful release: the standby must wait out the lease
    const killedAt = Date.now();
    await waitFor(async () => (await leaderOf()) === standby, 20_000, 'standby takes the lease');
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    await waitFor(async () => (await masterStatus(standbyPort)) === 1, 10_000, 'standby reports leadership');
    await kube.applyPlanSource('two', { provider: { url: 'http://p.example/two' } });
    await waitFor(() => schedule('two'), 15_000, 'new leader reconciled');
  });
});
