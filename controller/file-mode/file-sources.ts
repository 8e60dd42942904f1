// File mode: PlanSources read from YAML files in a folder instead of the Kubernetes API, driven
// through the same resolve + schedule code as the operator. Used by `make run` and docker compose.
import { readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { PgBoss } from 'pg-boss';
import type { Logger } from '../../services/core/logger.js';
import { resolveSpec, SpecError } from '../plansource/resolve.js';
import { KIND, sourceKey, type PlanSource, type ResolvedSpec } from '../plansource/types.js';
import { applySchedule, desiredSchedule, pruneSchedules } from '../schedule/schedules.js';

export interface LoadedSource {
  key: string;
  file: string;
  spec: ResolvedSpec;
}

export interface LoadResult {
  sources: LoadedSource[];
  errors: { file: string; name?: string; message: string }[];
}

/** Reads every PlanSource in the folder; invalid ones are reported, never half-applied. */
export function loadPlanSources(dir: string, urlOverride?: string): LoadResult {
  const result: LoadResult = { sources: [], errors: [] };
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch (err) {
    result.errors.push({ file: dir, message: `cannot read folder: ${(err as Error).message}` });
    return result;
  }
  const seen = new Set<string>();
  for (const f of files) {
    const file = join(dir, f);
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      if (doc.errors.length > 0) {
        result.errors.push({ file, message: doc.errors.map((e) => e.message).join('; ') });
        continue;
      }
      const obj = doc.toJS() as PlanSource | null;
      if (!obj || obj.kind !== KIND) continue;
      const name = obj.metadata?.name;
      if (!name || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
        result.errors.push({ file, message: `metadata.name ${JSON.stringify(name)} must be a DNS-1123 label` });
        continue;
      }
      const key = sourceKey(obj);
      if (seen.has(key)) {
        result.errors.push({ file, name, message: `duplicate PlanSource ${key}` });
        continue;
      }
      seen.add(key);
      try {
        const spec = resolveSpec(obj.spec);
        if (urlOverride) spec.url = urlOverride;
        result.sources.push({ key, file, spec });
      } catch (err) {
        if (!(err instanceof SpecError)) throw err;
        result.errors.push({ file, name, message: err.message });
      }
    }
  }
  return result;
}

export interface FileSourceControllerOptions {
  dir: string;
  boss: PgBoss;
  log: Logger;
  urlOverride?: string | undefined;
  resyncMs?: number;
  onSync?: (sources: LoadedSource[]) => void;
}

export class FileSourceController {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private lastErrors = '';

  constructor(private readonly opts: FileSourceControllerOptions) {}

  async start(): Promise<void> {
    await this.sync();
    try {
      this.watcher = watch(this.opts.dir, () => this.schedule());
    } catch (err) {
      this.opts.log.warn({ err, dir: this.opts.dir }, 'cannot watch PlanSource folder; relying on periodic resync');
    }
    // Periodic resync: file watchers miss events on some filesystems (bind mounts, NFS).
    this.timer = setInterval(() => this.schedule(), this.opts.resyncMs ?? 30_000);
    this.timer.unref();
  }

  private schedule(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.running = this.running.then(async () => void (await this.sync())).catch((err) => this.opts.log.error({ err }, 'file source sync failed'));
    }, 200);
  }

  /** One level-triggered pass: every file source scheduled as written, every other schedule removed. */
  async sync(): Promise<LoadedSource[]> {
    const { sources, errors } = loadPlanSources(this.opts.dir, this.opts.urlOverride);
    const errorText = JSON.stringify(errors);
    if (errorText !== this.lastErrors) {
      for (const e of errors) this.opts.log.error(e, 'invalid PlanSource file: not applied');
      this.lastErrors = errorText;
    }
    // A file that fails to parse must not remove its source's schedule: keep every key that errored.
    const keep = new Set(sources.map((s) => s.key));
    const broken = errors.length > 0;
    for (const s of sources) {
      const change = await applySchedule(this.opts.boss, s.key, s.spec.suspend ? null : desiredSchedule(s.key, s.spec));
      if (change !== 'unchanged' && change !== 'absent') this.opts.log.info({ source: s.key, change, cron: s.spec.cron }, 'schedule reconciled');
    }
    if (!broken) {
      const removed = await pruneSchedules(this.opts.boss, keep);
      for (const key of removed) this.opts.log.info({ source: key }, 'schedule removed: PlanSource file gone');
    }
    this.opts.onSync?.(sources);
    return sources;
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    await this.running;
  }
}
