// Search throughput and latency of one API process on loopback, for 10,000 stored plans:
// cache hit (Redis), cache miss (every request a new window: Postgres), Redis down (breaker open),
// against a baseline in the same run: a bare node:http server returning the same precomputed body.
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
type Result = Awaited<ReturnType<typeof autocannon>>;
import { createPool } from '../services/core/db.js';
import { createLogger } from '../services/core/logger.js';
import { migrate } from '../services/core/migrate.js';
import { runFetch } from '../services/fetcher/fetcher.js';
import { storeBatch } from '../services/processor/store.js';
import { ProviderSimulator } from '../services/provider-sim/server.js';
import { benchPostgres, benchRedis, emit, freePort, machine, round, spawnCli, stopChild, table, waitFor } from './lib.js';

const PLANS = Number(process.env.BENCH_SEARCH_PLANS ?? 10_000);
const DURATION = Number(process.env.BENCH_DURATION_SECONDS ?? 10);
const CONNECTIONS = 32;
const HIT_PATH = '/search?starts_at=2021-03-01T00:00:00Z&ends_at=2021-03-08T00:00:00Z';

function summarize(scenario: string, mode: string, r: Result, extra: Record<string, unknown> = {}) {
  return {
    bench: 'search',
    scenario,
    mode,
    rps: round(r.requests.average, 0),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    p999Ms: r.latency.p99_9,
    maxMs: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    ...extra,
  };
}

/** A random window inside the data's year: every request a cache miss. */
function randomWindow(req: { path: string }) {
  const start = Date.UTC(2021, 0, 1) + Math.floor(Math.random() * 350 * 86400) * 1000 + Math.floor(Math.random() * 86400) * 1000;
  const end = start + (1 + Math.floor(Math.random() * 7)) * 86400 * 1000;
  return { ...req, path: `/search?starts_at=${new Date(start).toISOString()}&ends_at=${new Date(end).toISOString()}` };
}

export async function benchSearch(): Promise<Record<string, unknown>[]> {
  const log = createLogger('warn');
  const pg = await benchPostgres();
  const redis = await benchRedis();
  const pool = createPool(pg.url, 8);
  await migrate(pool);
  const results: Record<string, unknown>[] = [];
  const children = [];
  const bodyFile = join(tmpdir(), `plansync-bench-body-${process.pid}.json`);
  try {
    // Seed through the real ingest path.
    const sim = await new ProviderSimulator({ documents: ['<planList/>'], faults: ['huge'], huge: { plans: PLANS, zonesPerPlan: 10 } }).start();
    const seeded = await runFetch(
      { pool, log, enqueue: async (b) => void (await storeBatch(pool, b)), batchSize: 500, maxBodyBytes: 1 << 30 },
      { source: 'bench/search', url: sim.url, format: 'fever-xml', timezone: 'UTC', timeoutSeconds: 120 },
    );
    await sim.stop();
    if (seeded.plans !== PLANS) throw new Error(`seeded ${seeded.plans} plans, expected ${PLANS}`);

    const apiPort = await freePort();
    const api = spawnCli(['api'], { DATABASE_URL: pg.url, REDIS_URL: redis.url, PORT: String(apiPort), HOST: '127.0.0.1', DB_POOL_MAX: '10' });
    children.push(api);
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitFor(async () => (await fetch(`${apiUrl}/readyz`)).ok, 30_000, 'api ready');
    // A second API process without the in-process L1: every hit is a Redis round trip.
    const l2Port = await freePort();
    const apiL2 = spawnCli(['api'], { DATABASE_URL: pg.url, REDIS_URL: redis.url, PORT: String(l2Port), HOST: '127.0.0.1', DB_POOL_MAX: '10', LOCAL_CACHE_MAX_MB: '0' });
    children.push(apiL2);
    const l2Url = `http://127.0.0.1:${l2Port}`;
    await waitFor(async () => (await fetch(`${l2Url}/readyz`)).ok, 30_000, 'api (no L1) ready');
    const body = await (await fetch(`${apiUrl}${HIT_PATH}`)).text();
    const events = (JSON.parse(body) as { data: { events: unknown[] } }).data.events.length;

    // The ceiling: same body, same connection handling, no work at all.
    writeFileSync(bodyFile, body);
    const basePort = await freePort();
    const baseline = spawn(
      process.execPath,
      [
        '-e',
        `const b=require('fs').readFileSync(${JSON.stringify(bodyFile)});require('http').createServer((q,s)=>{s.writeHead(200,{'content-type':'application/json; charset=utf-8','content-length':b.length});s.end(b)}).listen(${basePort},'127.0.0.1')`,
      ],
      { stdio: 'ignore' },
    );
    children.push(baseline);
    const baseUrl = `http://127.0.0.1:${basePort}`;
    await waitFor(async () => (await fetch(`${baseUrl}${HIT_PATH}`)).ok, 10_000, 'baseline ready');

    const run = (url: string, opts: Partial<Parameters<typeof autocannon>[0]> = {}) => autocannon({ url, connections: CONNECTIONS, duration: DURATION, ...opts });
    const warm = (url: string) => autocannon({ url, connections: 8, duration: 2 });

    await warm(`${baseUrl}${HIT_PATH}`);
    const base = await run(`${baseUrl}${HIT_PATH}`);
    await warm(`${apiUrl}${HIT_PATH}`);
    const hit = await run(`${apiUrl}${HIT_PATH}`);
    const hitAt5k = await run(`${apiUrl}${HIT_PATH}`, { overallRate: 5000, connections: 64 });
    const baseAt5k = await run(`${baseUrl}${HIT_PATH}`, { overallRate: 5000, connections: 64 });
    const miss = await run(apiUrl, { requests: [{ method: 'GET', path: '/', setupRequest: randomWindow }] });
    await warm(`${l2Url}${HIT_PATH}`);
    const redisHit = await run(`${l2Url}${HIT_PATH}`);
    await redis.kill();
    // Redis gone: the API without L1 answers from Postgres behind the open breaker (single-flight
    // coalesces identical queries); the one with L1 keeps serving what it holds.
    await warm(`${l2Url}${HIT_PATH}`); // lets the breaker open
    const down = await run(`${l2Url}${HIT_PATH}`);
    const downAt2k = await run(`${l2Url}${HIT_PATH}`, { overallRate: 2000, connections: 64 });
    const downL1 = await run(`${apiUrl}${HIT_PATH}`);
    const downMiss = await run(l2Url, { requests: [{ method: 'GET', path: '/', setupRequest: randomWindow }] });

    const common = { plans: PLANS, eventsPerResponse: events, bodyBytes: body.length, connections: CONNECTIONS, durationSeconds: DURATION, machine: machine() };
    results.push(
      summarize('baseline', 'max', base, common),
      summarize('cache-hit', 'max', hit, { ...common, ratioToBaseline: round(hit.requests.average / base.requests.average) }),
      summarize('baseline', 'rate-5000', baseAt5k, common),
      summarize('cache-hit', 'rate-5000', hitAt5k, common),
      summarize('cache-miss', 'max', miss, { ...common, ratioToBaseline: round(miss.requests.average / base.requests.average) }),
      summarize('cache-hit-redis-only', 'max', redisHit, { ...common, ratioToBaseline: round(redisHit.requests.average / base.requests.average) }),
      summarize('redis-down', 'max', down, { ...common, ratioToBaseline: round(down.requests.average / base.requests.average) }),
      summarize('redis-down', 'rate-2000', downAt2k, common),
      summarize('redis-down-with-l1', 'max', downL1, { ...common, ratioToBaseline: round(downL1.requests.average / base.requests.average) }),
      summarize('redis-down-miss', 'max', downMiss, { ...common, ratioToBaseline: round(downMiss.requests.average / base.requests.average) }),
    );
    for (const r of results) emit(r);
    table(
      'search (one API process, loopback)',
      results.map((r) => ({ scenario: r.scenario, mode: r.mode, rps: r.rps, p50: r.p50Ms, p99: r.p99Ms, 'p99.9': r.p999Ms, ratio: r.ratioToBaseline ?? '', errors: Number(r.non2xx) + Number(r.errors) })),
    );
    return results;
  } finally {
    for (const c of children) await stopChild(c);
    rmSync(bodyFile, { force: true });
    await redis.kill();
    await pool.end();
    await pg.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchSearch();
  process.exit(0); // autocannon leaves timers behind
}
