// Fetch -> parse -> store against a real PostgreSQL and the provider simulator.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ProviderSimulator } from '../../services/provider-sim/server.js';
import { planId } from '../../services/core/ids.js';
import { storeBatch } from '../../services/processor/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { fixture } from '../helpers/fixtures.js';
import { fetchJob, ingestOnce, storedPlans } from '../helpers/ingest.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});
beforeEach(async () => {
  await db.pool.query('TRUNCATE plansync.plans, plansync.sources');
});

async function withSim<T>(docs: string[], fn: (sim: ProviderSimulator) => Promise<T>): Promise<T> {
  const sim = await new ProviderSimulator({ documents: docs }).start();
  try {
    return await fn(sim);
  } finally {
    await sim.stop();
  }
}

describe('ingesting the provider samples', () => {
  it('keeps the union of ever-online plans across snapshots, with the latest online version', async () => {
    await withSim([fixture('response_1.xml'), fixture('response_2.xml')], async (sim) => {
      const first = await ingestOnce(db.pool, fetchJob(sim.url));
      expect(first).toMatchObject({ outcome: 'ok', plans: 4, rejected: 0 });
      const second = await ingestOnce(db.pool, fetchJob(sim.url));
      expect(second).toMatchObject({ outcome: 'ok', plans: 2, rejected: 1 });
    });
    const rows = await storedPlans(db.pool);
    expect(rows.map((r) => [r.base_plan_id, r.plan_id, r.title, r.ever_online, r.min_price, r.max_price, r.end_local])).toEqual([
      ['291', '291', 'Camela en concierto', true, 15, 30, '2021-06-30T22:00:00'],
      // vanished from response_2 but was sold online: kept
      ['322', '1642', 'Pantomima Full', true, 55, 55, '2021-02-10T21:30:00'],
      ['322', '1643', 'Pantomima Full', true, 55, 55, '2021-02-11T21:30:00'],
      // changed in response_2: end time moved, the 75.00 zone went to zero capacity
      ['1591', '1642', 'Los Morancos', true, 65, 65, '2021-07-31T21:20:00'],
    ]);
    expect(rows[0]!.id).toBe(planId('default/fever', '291', '291'));
    const src = await db.pool.query('SELECT last_outcome, plans_seen, plans_rejected FROM plansync.sources');
    expect(src.rows[0]).toEqual({ last_outcome: 'ok', plans_seen: 2, plans_rejected: 1 });
  });

  it('keeps the last online version when a plan turns offline, and never lists offline-only plans', async () => {
    const online = fixture('response_1.xml');
    const offline = online.replace('base_plan_id="291" sell_mode="online" title="Camela en concierto"', 'base_plan_id="291" sell_mode="offline" title="Camela (cancelled)"').replace('price="30.00"', 'price="99.00"');
    const offlineOnly = `<planList><output><base_plan base_plan_id="7" sell_mode="offline" title="Never online">
      <plan plan_start_date="2021-03-01T10:00:00" plan_end_date="2021-03-01T11:00:00" plan_id="7"><zone capacity="1" price="1.00"/></plan></base_plan></output></planList>`;
    await withSim([online, offline, offlineOnly], async (sim) => {
      for (let i = 0; i < 3; i++) expect((await ingestOnce(db.pool, fetchJob(sim.url))).outcome).toBe('ok');
    });
    const rows = await storedPlans(db.pool);
    const camela = rows.find((r) => r.base_plan_id === '291')!;
    expect(camela).toMatchObject({ title: 'Camela en concierto', sell_mode: 'offline', ever_online: true, max_price: 30 });
    expect(rows.find((r) => r.base_plan_id === '7')).toMatchObject({ ever_online: false, title: 'Never online' });
  });

  it('is idempotent: a retried batch changes nothing and duplicates nothing', async () => {
    await withSim([fixture('response_1.xml')], async (sim) => {
      await ingestOnce(db.pool, fetchJob(sim.url));
    });
    const before = await storedPlans(db.pool);
    const plans = before.map((r) => ({ id: r.id, basePlanId: r.base_plan_id, planId: r.plan_id, title: r.title, startLocal: '2021-01-01T00:00:00', endLocal: r.end_local, minPrice: r.min_price, maxPrice: r.max_price, sellMode: 'online' as const }));
    // An older observation arriving late (a retried job) must not overwrite the newer stored version.
    await storeBatch(db.pool, { source: 'default/fever', timezone: 'UTC', observedAt: '2000-01-01T00:00:00Z', fetchId: 'old', seq: 0, plans: plans.map((p) => ({ ...p, title: 'stale' })) });
    expect(await storedPlans(db.pool)).toEqual(before);
  });

  it('resolves provider local times with the source time zone', async () => {
    await withSim([fixture('response_1.xml')], async (sim) => {
      await ingestOnce(db.pool, fetchJob(sim.url, { timezone: 'Europe/Madrid' }));
    });
    const r = await db.pool.query(`SELECT to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI') AS utc FROM plansync.plans WHERE base_plan_id = '291'`);
    expect(r.rows[0].utc).toBe('2021-06-30T19:00'); // 21:00 in Madrid (CEST, UTC+2)
  });

  it('skips an unchanged snapshot without enqueuing anything, and uses ETags', async () => {
    await withSim([fixture('response_1.xml')], async (sim) => {
      expect((await ingestOnce(db.pool, fetchJob(sim.url))).outcome).toBe('ok');
      // the simulator answers If-None-Match with 304
      expect((await ingestOnce(db.pool, fetchJob(sim.url))).outcome).toBe('not_modified');
      await db.pool.query('UPDATE plansync.sources SET etag = NULL');
      expect(await ingestOnce(db.pool, fetchJob(sim.url))).toMatchObject({ outcome: 'unchanged', batches: 0 });
    });
  });
});
