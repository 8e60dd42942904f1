import { z } from 'zod';

// Every setting comes from the environment and is validated once at startup, so a
// typo fails fast with the variable's name instead of surfacing later as a bad query.
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const schema = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional(),
  PROVIDER_URL: z.url().optional(),
  HOST: z.string().default('0.0.0.0'),
  PORT: int(0, 65535).default(8080),
  METRICS_PORT: int(0, 65535).default(9464),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DB_POOL_MAX: int(1, 200).default(10),
  FETCH_CONCURRENCY: int(1, 64).default(2),
  PROCESS_CONCURRENCY: int(1, 64).default(2),
  PROCESS_BATCH_SIZE: int(1, 10000).default(500),
  FETCH_MAX_BODY_BYTES: int(1024, 8 * 1024 ** 3).default(512 * 1024 ** 2),
  CACHE_TTL_SECONDS: int(1, 86400).default(300),
  // In-process L1 in front of Redis (per API process); 0 disables it.
  LOCAL_CACHE_MAX_MB: int(0, 4096).default(64),
  CACHE_TIMEOUT_MS: int(1, 10000).default(50),
  RATE_LIMIT_MAX: int(0, 10_000_000).default(0),
  RATE_LIMIT_WINDOW_MS: int(1, 3_600_000).default(1000),
  PLANSOURCES_DIR: z.string().default('examples/plansources'),
  DATA_DIR: z.string().default('.data'),
  OTEL_ENABLED: bool.default(false),
  // Controller (operator) settings; see README "The operator".
  WATCH_NAMESPACES: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'each namespace must be a DNS-1123 label'))),
  POD_NAMESPACE: z.string().optional(),
  POD_NAME: z.string().optional(),
  LEADER_ELECTION: bool.default(true),
  LEADER_ELECTION_ID: z.string().default('plansync-controller'),
  LEASE_DURATION_SECONDS: int(2, 3600).default(15),
  RENEW_DEADLINE_SECONDS: int(1, 3600).default(10),
  RETRY_PERIOD_SECONDS: int(1, 3600).default(2),
  RECONCILE_WORKERS: int(1, 64).default(4),
  STATUS_REFRESH_SECONDS: int(1, 3600).default(30),
  INFORMER_RELIST_SECONDS: int(10, 86400).default(300),
  WATCH_SILENCE_SECONDS: int(2, 3600).default(90),
  PROCESSOR_DEPLOYMENT: z.string().default('plansync-processor'),
  PROCESSOR_MAX_REPLICAS: int(0, 1000).default(20),
  AUTOSCALE_INTERVAL_SECONDS: int(1, 3600).default(15),
  // `processor` without Kubernetes: scale own concurrency from queue depth (PlanSource files in PLANSOURCES_DIR).
  PROCESS_AUTOSCALE: bool.default(false),
});

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const c = result.data;
  if (!(c.LEASE_DURATION_SECONDS > c.RENEW_DEADLINE_SECONDS && c.RENEW_DEADLINE_SECONDS > c.RETRY_PERIOD_SECONDS)) {
    throw new ConfigError('invalid configuration:\n  LEASE_DURATION_SECONDS > RENEW_DEADLINE_SECONDS > RETRY_PERIOD_SECONDS must hold');
  }
  return c;
}

export function requireSetting<K extends keyof Config>(config: Config, key: K): NonNullable<Config[K]> {
  const value = config[key];
  if (value === undefined || value === null || value === '') {
    throw new ConfigError(`invalid configuration:\n  ${String(key)}: required for this command`);
  }
  return value as NonNullable<Config[K]>;
}
