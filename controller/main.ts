import { resolve } from 'node:path';
import type { Config } from '../services/core/config.js';
import { createPool } from '../services/core/db.js';
import type { Logger } from '../services/core/logger.js';
import { startBoss } from '../services/core/queues.js';
import { startMetricsServer, type Stoppable } from '../services/runtime.js';
import { FileSourceController } from './file-mode/file-sources.js';
import { KubeClient, loadKubeConfig } from './kube/client.js';
import { Operator } from './operator/operator.js';

export interface ControllerOptions {
  fileDir?: string | undefined;
  kubeconfig?: string | undefined;
}

export async function runController(config: Config, log: Logger, opts: ControllerOptions): Promise<Stoppable> {
  const url = config.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required for the controller');
  const boss = await startBoss(url, log, { supervise: false });
  if (opts.fileDir) {
    const files = new FileSourceController({ dir: resolve(opts.fileDir), boss, log, urlOverride: config.PROVIDER_URL });
    await files.start();
    const metrics = await startMetricsServer(config.METRICS_PORT, config.HOST, log);
    return {
      async stop() {
        await metrics.stop();
        await files.stop();
        await boss.stop({ graceful: true, timeout: 5000 });
      },
    };
  }
  const pool = createPool(url, Math.min(config.DB_POOL_MAX, 5));
  const operator = new Operator({ config, log, kube: new KubeClient(loadKubeConfig(opts.kubeconfig)), boss, pool });
  await operator.start();
  const metrics = await startMetricsServer(config.METRICS_PORT, config.HOST, log, () => operator.ready());
  return {
    async stop() {
      await metrics.stop();
      await operator.stop();
      await boss.stop({ graceful: true, timeout: 5000 });
      await pool.end();
    },
  };
}
