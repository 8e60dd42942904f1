// `plansync dev` / `make run`: the whole system in one process with no services to install —
// embedded Postgres, the provider simulator with the bundled samples, fetcher, processor,
// file-mode PlanSources and the API on :8080. DATABASE_URL / PROVIDER_URL / REDIS_URL override.
import { join, resolve } from 'node:path';
import type { Config } from '../core/config.js';
import { createPool } from '../core/db.js';
import type { Logger } from '../core/logger.js';
import { migrate } from '../core/migrate.js';
import { projectRoot } from '../core/paths.js';
import { startBoss } from '../core/queues.js';
import { startFetchWorker } from '../fetcher/worker.js';
import { startProcessWorker } from '../processor/worker.js';
import { ProviderSimulator } from '../provider-sim/server.js';
import { onShutdown, startApi, startQueueDepthMetrics, type Stoppable } from '../runtime.js';
import { FileSourceController, type LoadedSource } from '../../controller/file-mode/file-sources.js';
import { startLocalAutoscaler } from '../../controller/autoscale/autoscaler.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

export async function runDev(config: Config, log: Logger): Promise<void> {
  const stops: Stoppable[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s.stop().catch((err) => log.error({ err }, 'stop failed'));
  };
  onShutdown(log, stopAll);

  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    const dataDir = resolve(config.DATA_DIR, 'postgres');
    log.info({ dataDir }, 'starting embedded postgres');
    const db = await startEmbeddedPostgres(dataDir, Number(process.env.EMBEDDED_PG_PORT ?? 54329));
    stops.push(db);
    databaseUrl = db.url;
  }
  let urlOverride = config.PROVIDER_URL;
  if (!urlOverride) {
    const samples = ['response_1.xml', 'response_2.xml'].map((f) => join(projectRoot(), 'examples', 'provider', f));
    const sim = await ProviderSimulator.fromFiles(samples, { port: Number(process.env.PROVIDER_SIM_PORT ?? 9090) }).start();
    stops.push(sim);
    urlOverride = sim.url;
    log.info({ url: sim.url }, 'provider simulator serving the bundled samples in rotation');
  }

  const pool = createPool(databaseUrl, config.DB_POOL_MAX);
  stops.push({ stop: () => pool.end() });
  await migrate(pool);
  const boss = await startBoss(databaseUrl, log, { schedule: true });
  stops.push({ stop: () => boss.stop({ graceful: true, timeout: 5000 }) });
  stops.push(startQueueDepthMetrics(boss, log));
  const fetcher = await startFetchWorker(boss, pool, log, {
    concurrency: config.FETCH_CONCURRENCY,
    batchSize: config.PROCESS_BATCH_SIZE,
    maxBodyBytes: config.FETCH_MAX_BODY_BYTES,
  });
  stops.push(fetcher);
  const processor = await startProcessWorker(boss, pool, log, config.PROCESS_CONCURRENCY);
  stops.push(processor);
  let declared: LoadedSource[] = [];
  const sources = new FileSourceController({ dir: resolve(config.PLANSOURCES_DIR), boss, log, urlOverride, onSync: (s) => (declared = s) });
  await sources.start();
  stops.push(sources);
  // The operator's autoscaler, with local worker concurrency standing in for processor replicas
  // (never below one, so data flows within seconds); it uses the sources the files just gave.
  stops.push(startLocalAutoscaler(config, log, pool, processor, () => declared));
  const api = await startApi(config, log, pool, databaseUrl);
  stops.push(api);
  log.info(`plansync dev is up: curl 'http://localhost:${api.port}/search?starts_at=2021-01-01T00:00:00Z&ends_at=2022-12-31T00:00:00Z'`);
}
