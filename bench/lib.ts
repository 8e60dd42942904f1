// Shared benchmark plumbing: real servers (embedded Postgres, redis-server, the built CLI as child
// processes), JSON lines on stdout, a short table on stderr, and machine facts with every result.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../services/core/paths.js';
import { startEmbeddedPostgres } from '../services/dev/embedded-postgres.js';

export const CLI = join(projectRoot(), 'dist', 'services', 'cli.js');

export function machine() {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memGb: Math.round(totalmem() / 1024 ** 3), node: process.version, platform: process.platform };
}

const resultsFile = join(projectRoot(), 'bench', 'results', 'latest.jsonl');

/** One result: a JSON line on stdout (machine-readable) and in bench/results/latest.jsonl. */
export function emit(result: Record<string, unknown>): void {
  const line = JSON.stringify({ ...result, at: new Date().toISOString() });
  process.stdout.write(`${line}\n`);
  mkdirSync(join(projectRoot(), 'bench', 'results'), { recursive: true });
  appendFileSync(resultsFile, `${line}\n`);
}

/** A short human table on stderr. */
export function table(title: string, rows: Record<string, unknown>[]): void {
  if (rows.length === 0) return;
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : String(v ?? ''));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  process.stderr.write(`\n${title}\n${line(cols)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map((r) => line(cols.map((c) => cell(r[c])))).join('\n')}\n`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as T;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** PostgreSQL for one benchmark: DATABASE_URL if given, else embedded in a temp folder. */
export async function benchPostgres(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  const parent = mkdtempSync(join(tmpdir(), 'plansync-bench-'));
  execFileSync('chmod', ['755', parent]);
  const db = await startEmbeddedPostgres(join(parent, 'pg'), await freePort(), { persistent: false });
  return {
    url: db.url,
    async stop() {
      await db.stop();
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

export async function benchRedis(): Promise<{ url: string; kill(): Promise<void> }> {
  const port = await freePort();
  let proc: ChildProcess;
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('redis-server not found: `make testenv` installs it');
  }
  proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.end();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      }),
    10_000,
    'redis',
  );
  return {
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** The built CLI as a child process (what a pod runs). */
export function spawnCli(args: string[], env: Record<string, string>, nodeArgs: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', process.env.BENCH_CHILD_LOGS ? 2 : 'ignore', 'inherit'] });
  return child;
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

/** Peak resident set (VmHWM) of a live process, in MB (Linux). */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024);
}

export const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
