import { resolve } from 'node:path';
import type { Config } from '../services/core/config.js';
import type { Logger } from '../services/core/logger.js';
import { startBoss } from '../services/core/queues.js';
import type { Stoppable } from '../services/runtime.js';
import { FileSourceController } from './file-mode/file-sources.js';

export interface ControllerOptions {
  fileDir?: string | undefined;
}

export async function runController(config: Config, log: Logger, opts: ControllerOptions): Promise<Stoppable> {
  const url = config.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required for the controller');
  const boss = await startBoss(url, log, { supervise: false });
  if (opts.fileDir) {
    const files = new FileSourceController({ dir: resolve(opts.fileDir), boss, log, urlOverride: config.PROVIDER_URL });
    await files.start();
    return {
      async stop() {
        await files.stop();
        await boss.stop({ graceful: true, timeout: 5000 });
      },
    };
  }
  throw new Error('Kubernetes mode is not built yet; use --file-dir');
}
