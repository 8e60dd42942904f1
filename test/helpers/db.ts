import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPool } from '../../services/core/db.js';
import { migrate } from '../../services/core/migrate.js';

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one test file, on the run's real PostgreSQL. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.PLANSYNC_TEST_PG_URL;
  if (!adminUrl) throw new Error('PLANSYNC_TEST_PG_URL not set: run through jest (global setup starts PostgreSQL)');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const pool = createPool(url, 10, 'plansync-test');
  await migrate(pool);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}
