// A PostgreSQL of a test's own (embedded binaries), for tests that stop and restart the server.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDb } from '../../services/dev/embedded-postgres.js';
import { freePort } from './ports.js';

export async function ownPostgres(): Promise<EmbeddedDb & { remove(): Promise<void> }> {
  const parent = mkdtempSync(join(tmpdir(), 'plansync-ownpg-'));
  chmodSync(parent, 0o755); // as root the server runs as `postgres`
  // persistent: the data folder must survive stop() so the test can start the server again
  const db = await startEmbeddedPostgres(join(parent, 'pg'), await freePort(), { persistent: true });
  return {
    ...db,
    async remove() {
      await db.stop().catch(() => {});
      rmSync(parent, { recursive: true, force: true });
    },
  };
}
