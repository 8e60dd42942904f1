// The chart's least-privilege RBAC is enough: the operator runs with a token of the chart's own
// ServiceAccount (TokenRequest API) against the real API server, narrowed to one watched
// namespace, and does its whole job: lease, watch, finalizer, status, events, Secrets, scale.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { PgBoss } from 'pg-boss';
import { loadConfig } from '../../services/core/config.js';
import { projectRoot } from '../../services/core/paths.js';
import { QUEUE, startBoss } from '../../services/core/queues.js';
import { KubeClient } from '../../controller/kube/client.js';
import { Operator } from '../../controller/operator/operator.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { silentLog } from '../helpers/ingest.js';
import { kubeConfig, testKube, type TestKube } from '../helpers/kube.js';
import { waitFor } from '../helpers/ports.js';

const run = promisify(execFile);
let db: TestDatabase;
let boss: PgBoss;
let release: TestKube; // where the chart is installed
let watched: TestKube; // the one namespace it may watch
let other: TestKube; // a namespace it must not touch
let operator: Operator;

beforeAll(async () => {
  db = await createTestDatabase();
  boss = await startBoss(db.url, silentLog, { supervise: false });
  [release, watched, other] = await Promise.all([testKube(), testKube(), testKube()]);
  const chart = join(projectRoot(), 'charts', 'plansync');
  const { stdout } = await run(join(projectRoot(), '.testenv', 'bin', 'helm'), [
    'template', 'plansync', chart, '--namespace', release.namespace, '--kube-version', '1.36.0',
    '--set', `controller.watchNamespaces[0]=${watched.namespace}`,
    '-s', 'templates/rbac.yaml', '-s', 'templates/serviceaccount.yaml',
  ]);
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig());
  for (const doc of parseAllDocuments(stdout).map((d) => d.toJS() as KubernetesObject).filter(Boolean)) {
    if (!doc.metadata!.namespace && doc.kind === 'ServiceAccount') doc.metadata!.namespace = release.namespace;
    await objects.patch(doc, undefined, undefined, 'plansync-tests', true, PatchStrategy.ServerSideApply);
  }
  await release.createProcessorDeployment('plansync-processor');
  const token = await release.core.createNamespacedServiceAccountToken({ name: 'plansync', namespace: release.namespace, body: { spec: { expirationSeconds: 3600 } } });
  const admin = kubeConfig();
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server: admin.getCurrentCluster()!.server, skipTLSVerify: true }],
    users: [{ name: 'plansync', token: token.status!.token }],
    contexts: [{ name: 'sa', cluster: 'test', user: 'plansync', namespace: release.namespace }],
    currentContext: 'sa',
  });
  const config = loadConfig({
    DATABASE_URL: db.url,
    POD_NAMESPACE: release.namespace,
    WATCH_NAMESPACES: watched.namespace,
    LEADER_ELECTION_ID: 'plansync-controller',
    LEASE_DURATION_SECONDS: '4',
    RENEW_DEADLINE_SECONDS: '3',
    RETRY_PERIOD_SECONDS: '1',
    STATUS_REFRESH_SECONDS: '1',
    AUTOSCALE_INTERVAL_SECONDS: '1',
  });
  operator = new Operator({ config, log: silentLog, kube: new KubeClient(kc), boss, pool: db.pool, onLostLeadership: () => {} });
  await operator.start();
});

afterAll(async () => {
  await operator?.stop();
  await Promise.all([release, watched, other].map((k) => k?.cleanup()));
  await boss?.stop({ graceful: false });
  await db?.drop();
});

it('runs the whole operator with only the chart RBAC, in the watched namespace only', async () => {
  await waitFor(() => operator.isLeader(), 15_000, 'lease acquired with chart RBAC');
  await watched.core.createNamespacedSecret({ namespace: watched.namespace, body: { metadata: { name: 'hdr' }, stringData: { 'X-Api-Key': 'k' } } });
  await watched.applyPlanSource('rbac', {
    provider: { url: 'http://p.example/rbac', headersFrom: { secretRef: { name: 'hdr' } } },
    processor: { targetQueueDepthPerWorker: 10, maxReplicas: 3 },
  });
  await other.applyPlanSource('elsewhere', { provider: { url: 'http://p.example/elsewhere' } });
  const key = `${watched.namespace}/rbac`;
  const schedule = await waitFor(() => boss.getSchedule(QUEUE.fetch, key), 15_000, 'schedule');
  expect(schedule.data).toMatchObject({ headers: { 'X-Api-Key': 'k' } });
  const ps = await waitFor(async () => {
    const p = await watched.getPlanSource('rbac');
    return p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : null;
  }, 15_000, 'status written');
  expect(ps.metadata.finalizers).toContain('plansync.dev/schedules');
  await waitFor(async () => (await watched.events('rbac')).length > 0, 10_000, 'event recorded');
  for (let i = 0; i < 25; i++) await boss.send(QUEUE.process, { source: key, timezone: 'UTC', observedAt: new Date().toISOString(), fetchId: 'f', seq: i, plans: [] });
  await waitFor(async () => (await release.replicas('plansync-processor')) === 3, 15_000, 'processor scaled via scale subresource');
  // Not watched, not allowed: left alone.
  expect(await boss.getSchedule(QUEUE.fetch, `${other.namespace}/elsewhere`)).toBeNull();
  expect((await other.getPlanSource('elsewhere'))!.metadata.finalizers ?? []).toEqual([]);
});
