import pg from 'pg';

// numeric comes back as a string by default; prices are small decimals, a JS number is exact enough
// to serialize them the way the spec shows (number), and it avoids a per-row parse in the hot path.
pg.types.setTypeParser(1700, (v) => Number(v));

export type Pool = pg.Pool;

export function createPool(connectionString: string, max = 10, applicationName = 'plansync'): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    application_name: applicationName,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
  });
  // An idle client losing its server (restart, failover) emits here; without a listener it would crash the process.
  pool.on('error', () => {});
  return pool;
}
