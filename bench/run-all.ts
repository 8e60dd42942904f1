// `npm run bench`: every benchmark in turn; JSON lines on stdout, tables on stderr, and the lines
// also kept in bench/results/latest.jsonl. BENCH_ONLY=search,ingest,controller picks some.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../services/core/paths.js';
import { benchController } from './controller.js';
import { benchIngest } from './ingest.js';
import { benchSearch } from './search.js';

const all = { search: benchSearch, ingest: benchIngest, controller: benchController } as const;
const only = (process.env.BENCH_ONLY ?? Object.keys(all).join(',')).split(',').map((s) => s.trim()) as (keyof typeof all)[];
rmSync(join(projectRoot(), 'bench', 'results', 'latest.jsonl'), { force: true });
let failed = false;
for (const name of only) {
  const run = all[name];
  if (!run) throw new Error(`unknown benchmark ${name}; one of ${Object.keys(all).join(', ')}`);
  try {
    await run();
  } catch (err) {
    failed = true;
    process.stderr.write(`benchmark ${name} failed: ${(err as Error).stack}\n`);
  }
}
process.exit(failed ? 1 : 0);
