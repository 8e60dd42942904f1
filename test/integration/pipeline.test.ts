// The whole system as `make run` wires it: pg-boss schedules from PlanSource files, fetch and
// process workers, the API over real HTTP — against real PostgreSQL and the simulator.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PgBoss } from 'pg-boss';
import { loadConfig } from '../../services/core/config.js';
import { QUEUE, startBoss } from '../../services/core/queues.js';
import { startFetchWorker } from '../../services/fetcher/worker.js';
import { startProcessWorker } from '../../services/processor/worker.js';
import { ProviderSimulator } from '../../services/provider-sim/server.js';
import { startApi, type Stoppable } from '../../services/runtime.js';
import { FileSourceController } from '../../controller/file-mode/file-sources.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { fixture } from '../helpers/fixtures.js';
import { silentLog } from '../helpers/ingest.js';
import { waitFor } from '../helpers/ports.js';

let db: TestDatabase;
let boss: PgBoss;
let sim: ProviderSimulator;
let dir: string;
let files: FileSourceController;
let apiUrl: string;
const stops: Stoppable[] = [];

const planSource = (name: string, url: string, extra = '') => `apiVersion: plansync.dev/v1alpha1
kind: PlanSource
metadata:
  name: ${name}
spec:
  provider:
    url: ${url}
  schedule:
    intervalSeconds: 60
${extra}`;

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await new ProviderSimulator({ documents: [fixture('response_1.xml'), fixture('response_2.xml')] }).start();
  boss = await startBoss(db.url, silentLog, { schedule: true });
  stops.push(await startFetchWorker(boss, db.pool, silentLog, { concurrency: 1, batchSize: 2, maxBodyBytes: 1 << 20 }));
  stops.push(await startProcessWorker(boss, db.pool, silentLog, 2));
  dir = mkdtempSync(join(tmpdir(), 'plansources-'));
  writeFileSync(join(dir, 'fever.yaml'), planSource('fever', sim.url));
  files = new FileSourceController({ dir, boss, log: silentLog, resyncMs: 500 });
  await files.start();
  const api = await startApi(loadConfig({ PORT: '0', HOST: '127.0.0.1' }), silentLog, db.pool, db.url);
  stops.push(api);
  apiUrl = `http://127.0.0.1:${api.port}`;
});

afterAll(async () => {
  await files.stop();
  for (const s of stops.reverse()) await s.stop();
  await boss.stop({ graceful: false });
  await sim.stop();
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function titles(): Promise<string[]> {
  const res = await fetch(`${apiUrl}/search?starts_at=2021-01-01T00:00:00Z&ends_at=2022-12-31T00:00:00Z`);
  const body = (await res.json()) as { data: { events: { title: string; end_time: string }[] } };
  return body.data.events.map((e) => `${e.title} ${e.end_time}`);
}

describe('pipeline', () => {
  it('serves the union of both sample snapshots within seconds of start', async () => {
    // Reconciling a new source fetches right away (response_1); then we play the next schedule
    // tick ourselves instead of waiting a minute for it (the simulator then serves response_2).
    await waitFor(async () => (await titles()).length === 4, 15_000, 'first snapshot');
    await boss.send(QUEUE.fetch, (await boss.getSchedule(QUEUE.fetch, 'default/fever'))!.data!, { singletonKey: 'default/fever' });
    const got = await waitFor(async () => {
      const t = await titles();
      return t.includes('Los Morancos 21:20:00') && t.length === 4 ? t : null;
    }, 30_000, 'both snapshots ingested');
    expect(got).toEqual(['Pantomima Full 21:30:00', 'Pantomima Full 21:30:00', 'Camela en concierto 22:00:00', 'Los Morancos 21:20:00']);
    const schedules = await boss.getSchedules(QUEUE.fetch);
    expect(schedules.map((s) => [s.key, s.cron])).toEqual([['default/fever', '* * * * *']]);
  });

  it('follows PlanSource file edits, rejects invalid files without touching schedules, and removes deleted ones', async () => {
    writeFileSync(join(dir, 'fever.yaml'), planSource('fever', sim.url).replace('intervalSeconds: 60', 'intervalSeconds: 300'));
    await waitFor(async () => (await boss.getSchedule(QUEUE.fetch, 'default/fever'))?.cron === '*/5 * * * *', 10_000, 'schedule update');
    writeFileSync(join(dir, 'broken.yaml'), planSource('broken', 'ftp://nowhere'));
    await new Promise((r) => setTimeout(r, 1000));
    expect((await boss.getSchedules(QUEUE.fetch)).map((s) => s.key)).toEqual(['default/fever']);
    rmSync(join(dir, 'broken.yaml'));
    rmSync(join(dir, 'fever.yaml'));
    await waitFor(async () => (await boss.getSchedules(QUEUE.fetch)).length === 0, 10_000, 'schedule removal');
    // Removing a source stops fetching; it deletes no plan.
    expect(await titles()).toHaveLength(4);
  });
});
