// Ingest at scale, end to end through the real pipeline: a synthetic provider payload of N plans
// x 100 zones, one fetch job on the queue, a fetcher and a processor process (the built CLI, as
// in a pod), until every plan is stored. Then the same snapshot again: with ETag (304) and
// without (downloaded, hashed, found unchanged). Reports how cost grows with size.
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPool } from '../services/core/db.js';
import { createLogger } from '../services/core/logger.js';
import { migrate } from '../services/core/migrate.js';
import { QUEUE, startBoss, type FetchJobData } from '../services/core/queues.js';
import { syntheticPlanList } from '../services/provider-sim/synthetic.js';
import { benchPostgres, emit, freePort, machine, peakRssMb, round, spawnCli, stopChild, table, waitFor } from './lib.js';

const SIZES = (process.env.BENCH_INGEST_SIZES ?? '1000,10000,50000').split(',').map(Number);
const ZONES = 100;
// As the Helm chart runs the workers (values: fetcher.nodeOptions / processor.nodeOptions): the
// heap capped well under the pod's memory limit, so V8 collects instead of growing into it.
const WORKER_NODE_ARGS = (process.env.BENCH_WORKER_NODE_OPTIONS ?? '--max-old-space-size=96 --max-semi-space-size=4').split(' ').filter(Boolean);

export async function benchIngest(): Promise<Record<string, unknown>[]> {
  const log = createLogger('warn');
  const dir = mkdtempSync(join(tmpdir(), 'plansync-bench-ingest-'));
  const pg = await benchPostgres();
  const pool = createPool(pg.url, 4);
  await migrate(pool);
  const boss = await startBoss(pg.url, log, { supervise: false });
  // A provider that streams files from disk: it costs this process no memory. `?etag=1` turns on
  // validators, so a re-fetch of an unchanged snapshot can be answered 304.
  const server = http.createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    const file = join(dir, u.pathname.slice(1));
    const st = statSync(file);
    const etag = `"${st.size}-${st.mtimeMs}"`;
    if (u.searchParams.get('etag') && req.headers['if-none-match'] === etag) return void res.writeHead(304, { etag }).end();
    res.writeHead(200, { 'content-type': 'application/xml', 'content-length': st.size, ...(u.searchParams.get('etag') ? { etag } : {}) });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const results: Record<string, unknown>[] = [];
  try {
    for (const plans of SIZES) {
      const file = `${plans}.xml`;
      const out = createWriteStream(join(dir, file));
      for (const part of syntheticPlanList({ plans, zonesPerPlan: ZONES })) {
        if (!out.write(part)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
      await new Promise<void>((r) => out.end(() => r()));
      const bytes = statSync(join(dir, file)).size;

      // Fresh worker processes per size, so their peak RSS is this payload's.
      const env = { DATABASE_URL: pg.url, HOST: '127.0.0.1', FETCH_CONCURRENCY: '1', PROCESS_CONCURRENCY: '2', FETCH_MAX_BODY_BYTES: String(2 * 1024 ** 3) };
      const fetcher = spawnCli(['fetcher'], { ...env, METRICS_PORT: String(await freePort()) }, WORKER_NODE_ARGS);
      const processor = spawnCli(['processor'], { ...env, METRICS_PORT: String(await freePort()) }, WORKER_NODE_ARGS);
      try {
        await new Promise((r) => setTimeout(r, 1500)); // both polling the queue
        const source = `bench/ingest-${plans}`;
        const job = (etag: boolean): FetchJobData => ({ source, url: `${base}/${file}${etag ? '?etag=1' : ''}`, format: 'fever-xml', timezone: 'UTC', timeoutSeconds: 600 });
        const stored = async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM plansync.plans WHERE source = $1', [source])).rows[0]!.n;
        const pending = async () =>
          (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state IN ('created','retry','active') AND data->>'source' = $2`, [QUEUE.process, source])).rows[0]!.n;
        const fetched = async (after: Date) =>
          (await pool.query<{ last_outcome: string }>('SELECT last_outcome FROM plansync.sources WHERE name = $1 AND last_fetch_at > $2', [source, after])).rows[0]?.last_outcome;

        const t0 = performance.now();
        await boss.send(QUEUE.fetch, job(true), { singletonKey: source });
        await waitFor(async () => (await stored()) === plans && (await pending()) === 0, 600_000, `${plans} plans stored`);
        const seconds = (performance.now() - t0) / 1000;
        const fetcherPeakRssMb = peakRssMb(fetcher.pid!);
        const processorPeakRssMb = peakRssMb(processor.pid!);

        const refetch = async (etag: boolean) => {
          const before = new Date();
          const t = performance.now();
          await boss.send(QUEUE.fetch, job(etag), { singletonKey: source });
          const outcome = await waitFor(() => fetched(before), 600_000, 're-fetch');
          return { seconds: round((performance.now() - t) / 1000, 3), outcome };
        };
        const notModified = await refetch(true);
        const unchanged = await refetch(false);
        const r = {
          bench: 'ingest',
          plans,
          zonesPerPlan: ZONES,
          payloadMb: round(bytes / 1024 ** 2, 1),
          seconds: round(seconds, 2),
          plansPerSecond: round(plans / seconds, 0),
          zonesPerSecond: round((plans * ZONES) / seconds, 0),
          fetcherPeakRssMb,
          processorPeakRssMb,
          refetchNotModifiedSeconds: notModified.seconds,
          refetchNotModifiedOutcome: notModified.outcome,
          refetchUnchangedSeconds: unchanged.seconds,
          refetchUnchangedOutcome: unchanged.outcome,
          workerNodeOptions: WORKER_NODE_ARGS.join(' '),
          machine: machine(),
        };
        results.push(r);
        emit(r);
      } finally {
        await stopChild(fetcher);
        await stopChild(processor);
        rmSync(join(dir, file), { force: true });
      }
    }
    // Growth: seconds per 1,000 plans at each size relative to the smallest (1.0 = linear).
    const first = results[0];
    if (first) {
      for (const r of results) r.costPer1kRelative = round((Number(r.seconds) / Number(r.plans)) / (Number(first.seconds) / Number(first.plans)));
      emit({ bench: 'ingest-growth', perSize: results.map((r) => ({ plans: r.plans, costPer1kRelative: r.costPer1kRelative })) });
    }
    table(
      'ingest (fetch -> stored, 100 zones per plan)',
      results.map((r) => ({
        plans: r.plans,
        MB: r.payloadMb,
        seconds: r.seconds,
        'plans/s': r.plansPerSecond,
        'fetcher MB': r.fetcherPeakRssMb,
        'processor MB': r.processorPeakRssMb,
        '304 s': r.refetchNotModifiedSeconds,
        'unchanged s': r.refetchUnchangedSeconds,
        'cost/1k vs first': r.costPer1kRelative,
      })),
    );
    return results;
  } finally {
    server.closeAllConnections();
    server.close();
    await boss.stop({ graceful: false });
    await pool.end();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchIngest();
  process.exit(0);
}
