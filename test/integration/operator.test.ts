// The operator against a real kube-apiserver + etcd (global setup) and real PostgreSQL:
// schedules, status, CRD validation, finalizer, Secrets, suspend and the processor autoscaler.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { PgBoss } from 'pg-boss';
import { loadConfig } from '../../services/core/config.js';
import { QUEUE, startBoss } from '../../services/core/queues.js';
import { messageOf, statusOf } from '../../controller/kube/client.js';
import { Operator } from '../../controller/operator/operator.js';
import { startLocalAutoscaler } from '../../controller/autoscale/autoscaler.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FINALIZER, type PlanSource } from '../../controller/plansource/types.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { silentLog } from '../helpers/ingest.js';
import { testKube, type TestKube } from '../helpers/kube.js';
import { waitFor } from '../helpers/ports.js';

let db: TestDatabase;
let boss: PgBoss;
let kube: TestKube;
let operator: Operator;

const ready = (ps: PlanSource | null) => ps?.status?.conditions?.find((c) => c.type === 'Ready');

beforeAll(async () => {
  db = await createTestDatabase();
  boss = await startBoss(db.url, silentLog, { supervise: false });
  kube = await testKube();
  await kube.createProcessorDeployment('plansync-processor');
  const config = loadConfig({
    DATABASE_URL: db.url,
    POD_NAMESPACE: kube.namespace,
    WATCH_NAMESPACES: kube.namespace,
    STATUS_REFRESH_SECONDS: '1',
    AUTOSCALE_INTERVAL_SECONDS: '1',
    LEADER_ELECTION: 'false',
  });
  operator = new Operator({ config, log: silentLog, kube: kube.client, boss, pool: db.pool, onLostLeadership: () => {} });
  await operator.start();
});

afterAll(async () => {
  await operator?.stop();
  await kube?.cleanup();
  await boss?.stop({ graceful: false });
  await db?.drop();
});

describe('PlanSource reconcile', () => {
  it('apply -> schedule in pg-boss, finalizer, status Ready with observedGeneration, event', async () => {
    const started = Date.now();
    await kube.applyPlanSource('alpha', { provider: { url: 'http://provider.example/alpha' }, schedule: { intervalSeconds: 120 } });
    const key = `${kube.namespace}/alpha`;
    const schedule = await waitFor(() => boss.getSchedule(QUEUE.fetch, key), 10_000, 'schedule');
    expect(schedule.cron).toBe('*/2 * * * *');
    expect(schedule.data).toMatchObject({ source: key, url: 'http://provider.example/alpha', timeoutSeconds: 30, retry: { attempts: 3 } });
    const ps = await waitFor(async () => {
      const p = await kube.getPlanSource('alpha');
      return ready(p)?.status === 'True' ? p : null;
    }, 10_000, 'Ready');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(ps!.metadata.finalizers).toContain(FINALIZER);
    expect(ps!.status).toMatchObject({ observedGeneration: 1, schedule: '*/2 * * * *', plans: 0 });
    expect(ready(ps)).toMatchObject({ reason: 'Scheduled', observedGeneration: 1 });
    // Defaults come from the CRD schema, applied by the API server.
    expect(ps!.spec).toMatchObject({ timeoutSeconds: 30, suspend: false, provider: { format: 'fever-xml', timezone: 'UTC' } });
    await waitFor(async () => (await kube.events('alpha')).some((e) => e.reason === 'ScheduleCreated'), 10_000, 'event');
  });

  it('edit spec -> schedule updated and observedGeneration advances', async () => {
    await kube.patchPlanSourceSpec('alpha', { schedule: { intervalSeconds: 300 }, timeoutSeconds: 45 });
    const key = `${kube.namespace}/alpha`;
    await waitFor(async () => (await boss.getSchedule(QUEUE.fetch, key))?.cron === '*/5 * * * *', 10_000, 'updated cron');
    expect((await boss.getSchedule(QUEUE.fetch, key))!.data).toMatchObject({ timeoutSeconds: 45 });
    const ps = await waitFor(async () => {
      const p = await kube.getPlanSource('alpha');
      return p?.status?.observedGeneration === 2 ? p : null;
    }, 10_000, 'observedGeneration 2');
    expect(ps.metadata.generation).toBe(2);
    expect(ready(ps)).toMatchObject({ status: 'True', observedGeneration: 2 });
    await waitFor(async () => (await kube.events('alpha')).some((e) => e.reason === 'ScheduleUpdated'), 10_000, 'event');
  });

  it.each([
    ['ftp URL', { provider: { url: 'ftp://x/y' } }, 'provider.url must be an http(s) URL'],
    ['interval not whole minutes', { provider: { url: 'http://x' }, schedule: { intervalSeconds: 90 } }, 'intervalSeconds must be a whole number of minutes'],
    ['interval not dividing an hour', { provider: { url: 'http://x' }, schedule: { intervalSeconds: 420 } }, 'intervalSeconds must divide an hour or a day evenly'],
    ['interval too short', { provider: { url: 'http://x' }, schedule: { intervalSeconds: 30 } }, 'should be greater than or equal to 60'],
    ['cron and interval', { provider: { url: 'http://x' }, schedule: { intervalSeconds: 60, cron: '* * * * *' } }, 'set either schedule.cron or schedule.intervalSeconds, not both'],
    ['min > max replicas', { provider: { url: 'http://x' }, processor: { minReplicas: 5, maxReplicas: 2 } }, 'processor.minReplicas must not exceed processor.maxReplicas'],
    ['unknown format', { provider: { url: 'http://x', format: 'json' } }, 'supported values: "fever-xml"'],
    ['missing provider', {}, 'spec.provider: Required value'],
  ])('rejects an invalid PlanSource at the API server: %s', async (_name, spec, message) => {
    const err = await kube.applyPlanSource(`bad-${Math.random().toString(36).slice(2, 8)}`, spec as never).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).not.toBeNull();
    expect(statusOf(err)).toBe(422);
    expect(messageOf(err)).toContain(message);
  });

  it('a spec the schema cannot judge (bad time zone) -> Ready False InvalidSpec, last good schedule kept', async () => {
    await kube.applyPlanSource('tz', { provider: { url: 'http://provider.example/tz', timezone: 'Europe/Madrid' } });
    const key = `${kube.namespace}/tz`;
    await waitFor(() => boss.getSchedule(QUEUE.fetch, key), 10_000, 'schedule');
    await kube.patchPlanSourceSpec('tz', { provider: { url: 'http://provider.example/tz', timezone: 'Mars/Olympus' } });
    const ps = await waitFor(async () => {
      const p = await kube.getPlanSource('tz');
      return ready(p)?.reason === 'InvalidSpec' ? p : null;
    }, 10_000, 'InvalidSpec');
    expect(ready(ps)!.message).toContain('Mars/Olympus');
    expect(ps.status?.observedGeneration).toBe(2);
    expect(ps.status?.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('True');
    expect((await boss.getSchedule(QUEUE.fetch, key))!.data).toMatchObject({ timezone: 'Europe/Madrid' });
    await waitFor(async () => (await kube.events('tz')).some((e) => e.reason === 'InvalidSpec' && e.type === 'Warning'), 10_000, 'warning event');
  });

  it('headers from a Secret ride in the schedule; a missing Secret is reported', async () => {
    await kube.applyPlanSource('auth', { provider: { url: 'http://provider.example/auth', headersFrom: { secretRef: { name: 'provider-auth' } } } });
    const missing = await waitFor(async () => {
      const p = await kube.getPlanSource('auth');
      return ready(p)?.reason === 'SecretNotFound' ? p : null;
    }, 10_000, 'SecretNotFound');
    expect(ready(missing)!.status).toBe('False');
    await kube.core.createNamespacedSecret({ namespace: kube.namespace, body: { metadata: { name: 'provider-auth' }, stringData: { Authorization: 'Bearer s3cret' } } });
    const schedule = await waitFor(() => boss.getSchedule(QUEUE.fetch, `${kube.namespace}/auth`), 15_000, 'schedule after Secret');
    expect(schedule.data).toMatchObject({ headers: { Authorization: 'Bearer s3cret' } });
  });

  it('suspend removes the schedule; resume restores it', async () => {
    await kube.applyPlanSource('pause', { provider: { url: 'http://provider.example/pause' } });
    const key = `${kube.namespace}/pause`;
    await waitFor(() => boss.getSchedule(QUEUE.fetch, key), 10_000, 'schedule');
    await kube.patchPlanSourceSpec('pause', { suspend: true });
    await waitFor(async () => !(await boss.getSchedule(QUEUE.fetch, key)), 10_000, 'schedule removed');
    await waitFor(async () => ready(await kube.getPlanSource('pause'))?.reason === 'Suspended', 10_000, 'Suspended');
    await kube.patchPlanSourceSpec('pause', { suspend: false });
    await waitFor(() => boss.getSchedule(QUEUE.fetch, key), 10_000, 'schedule back');
  });

  it('delete -> finalizer removes the schedule, then the object goes', async () => {
    await kube.applyPlanSource('gone', { provider: { url: 'http://provider.example/gone' } });
    const key = `${kube.namespace}/gone`;
    await waitFor(() => boss.getSchedule(QUEUE.fetch, key), 10_000, 'schedule');
    await waitFor(async () => (await kube.getPlanSource('gone'))?.metadata.finalizers?.includes(FINALIZER), 10_000, 'finalizer');
    await kube.deletePlanSource('gone');
    await waitFor(async () => (await kube.getPlanSource('gone')) === null, 10_000, 'object deleted');
    expect(await boss.getSchedule(QUEUE.fetch, key)).toBeNull();
  });

  it('reports fetch outcome and plan count from the database in status', async () => {
    const key = `${kube.namespace}/alpha`;
    await db.pool.query(
      `INSERT INTO plansync.sources (name, last_fetch_at, last_success_at, last_outcome, last_error, plans_seen)
       VALUES ($1, now(), now() - interval '1 hour', 'failed', 'provider answered 503', 42)`,
      [key],
    );
    const ps = await waitFor(async () => {
      const p = await kube.getPlanSource('alpha');
      return p?.status?.lastOutcome === 'failed' ? p : null;
    }, 10_000, 'status from sources row');
    expect(ps.status).toMatchObject({ plans: 42, lastOutcome: 'failed' });
    expect(ps.status?.lastFetchTime).toMatch(/Z$/);
    expect(ps.status?.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'True', reason: 'FetchFailing', message: 'provider answered 503' });
    expect(ready(ps)?.status).toBe('True'); // still scheduled: a failing provider is degraded, not broken
  });
});

describe('processor autoscaler', () => {
  it('scales the processor Deployment per the formula, rate-limited up, stabilized down, to zero after cooldown', async () => {
    await kube.applyPlanSource('busy', {
      provider: { url: 'http://provider.example/busy' },
      processor: { minReplicas: 0, maxReplicas: 8, targetQueueDepthPerWorker: 10, scaleDownStabilizationSeconds: 4, cooldownSeconds: 4 },
    });
    const key = `${kube.namespace}/busy`;
    await waitFor(() => boss.getSchedule(QUEUE.fetch, key), 10_000, 'schedule');
    // Other sources in this namespace have default policies and no queued work.
    const ids: string[] = [];
    for (let i = 0; i < 70; i++) {
      const id = await boss.send(QUEUE.process, { source: key, timezone: 'UTC', observedAt: new Date().toISOString(), fetchId: 'f', seq: i, plans: [] });
      ids.push(id!);
    }
    const seen: number[] = [];
    const sample = setInterval(() => void kube.replicas('plansync-processor').then((r) => seen.push(r)), 200);
    try {
      // ceil(70 / 10) = 7, reached in two steps: 0 -> 4 (max(2*0, 0+4)) -> 7.
      await waitFor(async () => (await kube.replicas('plansync-processor')) === 7, 15_000, '7 replicas');
      await waitFor(async () => (await kube.getPlanSource('busy'))?.status?.workers === 7, 10_000, 'status.workers');
      expect((await kube.getPlanSource('busy'))!.status!.queueDepth).toBe(70);
      await boss.deleteJob(QUEUE.process, ids.slice(0, 50));
      // 20 left -> 2, but only after the 4 s stabilization window.
      await waitFor(async () => (await kube.replicas('plansync-processor')) === 2, 15_000, '2 replicas');
      await boss.deleteJob(QUEUE.process, ids.slice(50));
      await waitFor(async () => (await kube.replicas('plansync-processor')) === 0, 20_000, 'scale to zero');
    } finally {
      clearInterval(sample);
    }
    seen.push(await kube.replicas('plansync-processor'));
    // No flapping: up, then down, never up again.
    const distinct = seen.filter((r, i) => i === 0 || r !== seen[i - 1]);
    const peak = distinct.indexOf(Math.max(...distinct));
    expect(distinct.slice(0, peak + 1)).toEqual([...distinct.slice(0, peak + 1)].sort((a, b) => a - b));
    expect(distinct.slice(peak)).toEqual([...distinct.slice(peak)].sort((a, b) => b - a));
    expect(distinct).toContain(4); // the scale-up rate limit showed
    expect(distinct.at(-1)).toBe(0);
  });

  it('file mode: local processor concurrency follows queue depth with the PlanSource files\' policy, never below one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plansync-files-'));
    writeFileSync(
      join(dir, 'local.yaml'),
      `apiVersion: plansync.dev/v1alpha1
kind: PlanSource
metadata: { name: local, namespace: files }
spec:
  provider: { url: "http://provider.example/local" }
  processor: { targetQueueDepthPerWorker: 5, scaleDownStabilizationSeconds: 0, cooldownSeconds: 0 }
`,
    );
    let concurrency = 2;
    const changes: number[] = [];
    const worker = { concurrency: () => concurrency, setConcurrency: async (n: number) => void changes.push((concurrency = n)) };
    const config = loadConfig({ PLANSOURCES_DIR: dir, DB_POOL_MAX: '8', AUTOSCALE_INTERVAL_SECONDS: '3600' });
    const scaler = startLocalAutoscaler(config, silentLog, db.pool, worker);
    await scaler.stop(); // only the first, idle tick: 2 -> 1 (never 0 in file mode)
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await boss.send(QUEUE.process, { source: 'files/local', timezone: 'UTC', observedAt: new Date().toISOString(), fetchId: 'f', seq: i, plans: [] }))!);
    expect((await scaler.tick())!.perSource['files/local']).toBe(6); // ceil(30 / 5)
    expect(concurrency).toBe(4); // capped at DB_POOL_MAX / 2
    await boss.deleteJob(QUEUE.process, ids);
    await scaler.tick();
    expect(changes).toEqual([1, 4, 1]);
    rmSync(dir, { recursive: true, force: true });
  });
});
