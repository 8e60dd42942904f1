#!/usr/bin/env node
// One binary, one image: `plansync <command>`. Config comes from the environment (see core/config.ts).
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, requireSetting, type Config } from './core/config.js';
import { createPool } from './core/db.js';
import { createLogger, type Logger } from './core/logger.js';
import { migrate } from './core/migrate.js';
import { startBoss } from './core/queues.js';
import { startTracing } from './core/tracing.js';
import { startFetchWorker } from './fetcher/worker.js';
import { startProcessWorker } from './processor/worker.js';
import { FAULTS, ProviderSimulator, type Fault } from './provider-sim/server.js';
import { onShutdown, startApi, startMetricsServer, startQueueDepthMetrics, type Stoppable } from './runtime.js';

const USAGE = `usage: plansync <command> [options]

commands:
  dev                      everything in one process (embedded Postgres, simulator, workers, API :8080)
  api                      search API (DATABASE_URL, optional REDIS_URL)
  fetcher                  fetch worker (DATABASE_URL)
  processor                process worker (DATABASE_URL)
  worker                   fetcher and processor in one process
  controller [--file-dir D] [--kubeconfig F]
                           PlanSource operator (Kubernetes: KUBECONFIG or in-cluster), or file mode reading YAML from D
  migrate                  apply database migrations and create the job queues
  ingest --url U [--source NS/NAME] [--timezone TZ]
                           one fetch of U stored right away (no queue); prints the outcome as JSON
  provider-sim [--port 9090] [--latency-ms N] [--failure-rate P] [--fault F] [--faults F,F,...] [--loop] FILE...
                           provider simulator; faults: ${FAULTS.join(', ')}
`;

async function withDatabase(config: Config) {
  const url = requireSetting(config, 'DATABASE_URL');
  const pool = createPool(url, config.DB_POOL_MAX);
  return { url, pool };
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL).child({ component: command });
  if (config.OTEL_ENABLED) await startTracing(`plansync-${command}`);
  const stops: Stoppable[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s.stop();
  };
  switch (command) {
    case 'dev': {
      const { runDev } = await import('./dev/dev.js');
      return runDev(config, log);
    }
    case 'migrate': {
      const { url, pool } = await withDatabase(config);
      const applied = await migrate(pool);
      const boss = await startBoss(url, log, { supervise: false });
      await boss.stop({ graceful: false });
      await pool.end();
      log.info({ applied }, 'migrations done');
      return;
    }
    case 'ingest': {
      const { values } = parseArgs({
        args: rest,
        options: { url: { type: 'string' }, source: { type: 'string', default: 'default/cli' }, timezone: { type: 'string', default: 'UTC' }, 'timeout-seconds': { type: 'string', default: '30' } },
      });
      if (!values.url) throw new ConfigError('ingest needs --url');
      const { pool } = await withDatabase(config);
      const { runFetch } = await import('./fetcher/fetcher.js');
      const { storeBatch } = await import('./processor/store.js');
      const started = Date.now();
      const result = await runFetch(
        {
          pool,
          log,
          enqueue: async (batch) => void (await storeBatch(pool, batch)),
          batchSize: config.PROCESS_BATCH_SIZE,
          maxBodyBytes: config.FETCH_MAX_BODY_BYTES,
        },
        { source: values.source!, url: values.url, format: 'fever-xml', timezone: values.timezone!, timeoutSeconds: Number(values['timeout-seconds']) },
      );
      await pool.end();
      const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
      process.stdout.write(`${JSON.stringify({ ...result, seconds: (Date.now() - started) / 1000, maxRssMb })}\n`);
      process.exit(result.outcome === 'failed' ? 1 : 0);
    }
    case 'api': {
      const { url, pool } = await withDatabase(config);
      stops.push({ stop: () => pool.end() });
      stops.push(await startApi(config, log, pool, url));
      break;
    }
    case 'fetcher':
    case 'processor':
    case 'worker': {
      const { url, pool } = await withDatabase(config);
      stops.push({ stop: () => pool.end() });
      const boss = await startBoss(url, log, { schedule: command !== 'processor' });
      stops.push({ stop: () => boss.stop({ graceful: true, timeout: 20_000 }) });
      if (command !== 'processor') {
        stops.push(await startFetchWorker(boss, pool, log, { concurrency: config.FETCH_CONCURRENCY, batchSize: config.PROCESS_BATCH_SIZE, maxBodyBytes: config.FETCH_MAX_BODY_BYTES }));
      }
      if (command !== 'fetcher') {
        const processor = await startProcessWorker(boss, pool, log, config.PROCESS_CONCURRENCY);
        stops.push(processor);
        // Without Kubernetes (docker compose): the operator's autoscaler drives this process's
        // concurrency instead of replicas, with the policies of the PlanSource files.
        if (config.PROCESS_AUTOSCALE) {
          const { startLocalAutoscaler } = await import('../controller/autoscale/autoscaler.js');
          stops.push(startLocalAutoscaler(config, log, pool, processor));
        }
      }
      stops.push(startQueueDepthMetrics(boss, log));
      stops.push(await startMetricsServer(config.METRICS_PORT, config.HOST, log));
      break;
    }
    case 'controller': {
      const { runController } = await import('../controller/main.js');
      const { values } = parseArgs({ args: rest, options: { 'file-dir': { type: 'string' }, kubeconfig: { type: 'string' } } });
      stops.push(await runController(config, log, { fileDir: values['file-dir'], kubeconfig: values.kubeconfig }));
      break;
    }
    case 'provider-sim': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          port: { type: 'string', default: '9090' },
          host: { type: 'string', default: '0.0.0.0' },
          'latency-ms': { type: 'string', default: '0' },
          'failure-rate': { type: 'string', default: '0' },
          fault: { type: 'string', default: 'http503' },
          faults: { type: 'string' },
          loop: { type: 'boolean', default: false },
        },
      });
      const parseFault = (f: string): Fault => {
        if (!(FAULTS as readonly string[]).includes(f)) throw new ConfigError(`unknown fault ${JSON.stringify(f)}; one of ${FAULTS.join(', ')}`);
        return f as Fault;
      };
      if (positionals.length === 0) throw new ConfigError('provider-sim needs at least one XML file');
      const sim = await ProviderSimulator.fromFiles(positionals, {
        port: Number(values.port),
        host: values.host,
        latencyMs: Number(values['latency-ms']),
        failureRate: Number(values['failure-rate']),
        randomFault: parseFault(values.fault!),
        faults: values.faults ? values.faults.split(',').map(parseFault) : undefined,
        loopFaults: values.loop,
      }).start();
      log.info({ url: sim.url, files: positionals }, 'provider simulator listening');
      stops.push(sim);
      break;
    }
    default:
      process.stderr.write(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
  }
  onShutdown(log, stopAll);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  const log: Logger = createLogger('error');
  log.fatal({ err }, 'plansync failed to start');
  process.exit(1);
});
