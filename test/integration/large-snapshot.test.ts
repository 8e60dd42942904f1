// A provider snapshot of 10,000 plans x 100 zones (~110 MB of XML) ingested with bounded memory:
// the body is spooled to disk and parsed plan by plan, never held whole.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../services/core/paths.js';
import { syntheticPlanList } from '../../services/provider-sim/synthetic.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const execFileAsync = promisify(execFile);
let db: TestDatabase;
let server: http.Server;
let url: string;
let dir: string;
// The payload is written to disk first and served by streaming the file, so the provider side
// costs this process no memory and the measurement is the ingest path's alone.
beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'plansync-large-'));
  for (const plans of [2_500, 10_000]) {
    const out = createWriteStream(join(dir, `${plans}.xml`));
    for (const part of syntheticPlanList({ plans, zonesPerPlan: 100 })) {
      if (!out.write(part)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r) => out.end(() => r()));
  }
  server = http.createServer((req, res) => {
    const file = join(dir, req.url!.slice(1));
    res.writeHead(200, { 'content-type': 'application/xml', 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

describe('large snapshot', () => {
  // Run in a process of its own (the built CLI) with a small V8 heap, so jest's memory is not in
  // the numbers and an ingest that held the document would die of heap exhaustion.
  async function ingest(plans: number) {
    const cli = join(projectRoot(), 'dist', 'services', 'cli.js');
    if (!existsSync(cli)) throw new Error('dist/ missing: run `make build` (make test does) before this suite');
    const { stdout } = await execFileAsync(process.execPath, ['--max-old-space-size=64', '--max-semi-space-size=4', cli, 'ingest', '--url', `${url}${plans}.xml`, '--source', `default/large-${plans}`], {
      env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' },
      maxBuffer: 1 << 20,
    });
    return JSON.parse(stdout.trim().split('\n').pop()!) as { outcome: string; plans: number; rejected: number; batches: number; bytes: number; seconds: number; maxRssMb: number };
  }

  it('ingests 10,000 plans x 100 zones with memory that does not grow with the payload', async () => {
    const small = await ingest(2_500);
    const large = await ingest(10_000);
    process.stderr.write(
      `large snapshot: 2,500 plans (${(small.bytes / 2 ** 20).toFixed(0)} MB) peak RSS ${small.maxRssMb} MB; ` +
        `10,000 plans (${(large.bytes / 2 ** 20).toFixed(0)} MB) in ${large.seconds}s, peak RSS ${large.maxRssMb} MB\n`,
    );
    expect(large).toMatchObject({ outcome: 'ok', plans: 10_000, rejected: 0, batches: 20 });
    expect(large.bytes).toBeGreaterThan(75 * 2 ** 20);
    const stored = await db.pool.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE ever_online)::int AS online FROM plansync.plans WHERE source = 'default/large-10000'`);
    expect(stored.rows[0]).toEqual({ n: 10_000, online: 10_000 });
    // The run above had its V8 heap capped at 64 MB: the document alone, held as a string, would
    // need 160 MB, so finishing at all proves memory is bounded by a chunk and a batch. RSS on
    // top of that heap (code, buffers, allocator slack) is what the bench reports.
    expect(large.maxRssMb).toBeLessThan(300);
  });
});
