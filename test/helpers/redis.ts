// A real redis-server per test file (Debian package, installed by scripts/install-test-deps.sh),
// on a free port, so tests can kill and restart it.
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { freePort, waitFor } from './ports.js';
import net from 'node:net';

export function redisAvailable(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export class TestRedis {
  private proc: ChildProcess | null = null;
  constructor(readonly port: number) {}

  static async start(): Promise<TestRedis> {
    if (!redisAvailable()) throw new Error('redis-server not found: run `make testenv` (scripts/install-test-deps.sh)');
    const r = new TestRedis(await freePort());
    await r.start();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor(() => ping(this.port), 10_000, 'redis-server to accept connections');
  }

  /** SIGKILL: the way a crashed or OOM-killed Redis disappears. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
    this.proc = null;
  }

  async stop(): Promise<void> {
    await this.kill();
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.write('PING\r\n');
    });
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    s.once('error', () => resolve(false));
  });
}
