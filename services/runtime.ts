// Wiring shared by the CLI commands and dev mode: each function starts one component and
// returns how to stop it, so `plansync dev` is just all of them in one process.
import http from 'node:http';
import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Config } from './core/config.js';
import type { Logger } from './core/logger.js';
import { collectDefaultMetrics, metrics, registry } from './core/metrics.js';
import { QUEUE } from './core/queues.js';
import { buildApp } from './api/app.js';
import { RedisSearchCache } from './api/search-cache.js';
import { SearchService } from './api/search-service.js';
import { VersionTracker } from './api/version-tracker.js';

export interface Stoppable {
  stop(): Promise<void>;
}

export async function startApi(config: Config, log: Logger, pool: pg.Pool, databaseUrl: string): Promise<Stoppable & { port: number }> {
  collectDefaultMetrics();
  const versions = new VersionTracker(pool, databaseUrl, log);
  await versions.start();
  const cache = config.REDIS_URL ? new RedisSearchCache(config.REDIS_URL, log, { timeoutMs: config.CACHE_TIMEOUT_MS }) : null;
  const search = new SearchService(pool, versions, cache, config.CACHE_TTL_SECONDS, config.LOCAL_CACHE_MAX_MB * 1024 * 1024);
  const app = await buildApp({
    log,
    search,
    readiness: {
      database: async () => {
        await pool.query('SELECT 1');
        return true;
      },
      cache: () => (cache ? cache.status() : 'disabled'),
    },
    rateLimit: config.RATE_LIMIT_MAX > 0 ? { max: config.RATE_LIMIT_MAX, timeWindowMs: config.RATE_LIMIT_WINDOW_MS } : undefined,
  });
  await app.listen({ host: config.HOST, port: config.PORT });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.PORT;
  log.info({ port }, 'api listening');
  return {
    port,
    async stop() {
      await app.close();
      await versions.stop();
      await cache?.close();
    },
  };
}

/** /metrics and /healthz for worker processes, which have no API server of their own. */
export async function startMetricsServer(port: number, host: string, log: Logger, ready: () => boolean = () => true): Promise<Stoppable & { port: number }> {
  collectDefaultMetrics();
  const server = http.createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
    } else if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (req.url === '/readyz') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(ok ? '{"status":"ok"}' : '{"status":"starting"}');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const bound = (server.address() as import('node:net').AddressInfo).port;
  log.info({ port: bound }, 'metrics listening');
  return { port: bound, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Queue depth for the metrics gauges: queued (ready + retry) plus active. */
export async function queueDepth(boss: PgBoss, name: string = QUEUE.process): Promise<{ queued: number; active: number }> {
  const q = await boss.getQueue(name);
  const queued = q ? q.queuedCount - q.deferredCount : 0;
  const active = q?.activeCount ?? 0;
  metrics.queueDepth.set({ queue: name, state: 'queued' }, queued);
  metrics.queueDepth.set({ queue: name, state: 'active' }, active);
  return { queued, active };
}

/** Keeps the queue-depth gauges current in worker processes. */
export function startQueueDepthMetrics(boss: PgBoss, log: Logger, everyMs = 5000): Stoppable {
  const tick = () => {
    for (const q of [QUEUE.fetch, QUEUE.process]) queueDepth(boss, q).catch((err) => log.debug({ err }, 'queue depth read failed'));
  };
  tick();
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return { stop: async () => clearInterval(timer) };
}

export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 25_000);
    force.unref();
    stop()
      .then(() => process.exit(0))
      .catch((err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}
