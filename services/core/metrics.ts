import client from 'prom-client';

// One registry per process; every component registers its instruments here so /metrics shows all.
export const registry = new client.Registry();
let defaultsOn = false;
export function collectDefaultMetrics(): void {
  if (defaultsOn) return;
  defaultsOn = true;
  client.collectDefaultMetrics({ register: registry, prefix: 'plansync_' });
}

const counter = <T extends string>(name: string, help: string, labelNames: readonly T[]) =>
  new client.Counter<T>({ name, help, labelNames, registers: [registry] });

export const metrics = {
  httpDuration: new client.Histogram({
    name: 'plansync_http_request_duration_seconds',
    help: 'API request latency',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  }),
  fetches: counter('plansync_fetches_total', 'Provider fetches by outcome and reason', ['source', 'outcome', 'reason'] as const),
  fetchDuration: new client.Histogram({
    name: 'plansync_fetch_duration_seconds',
    help: 'Provider fetch duration, spool and parse included',
    labelNames: ['source'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  }),
  plansIngested: counter('plansync_plans_ingested_total', 'Plans written by the processor', ['source'] as const),
  plansRejected: counter('plansync_plans_rejected_total', 'Malformed plans skipped, by reason', ['source', 'reason'] as const),
  cache: counter('plansync_search_cache_total', 'Search cache lookups by result', ['result'] as const),
  breakerState: new client.Gauge({
    name: 'plansync_breaker_state',
    help: 'Circuit breaker state (0 closed, 1 half-open, 2 open)',
    labelNames: ['breaker'] as const,
    registers: [registry],
  }),
  queueDepth: new client.Gauge({
    name: 'plansync_queue_depth',
    help: 'pg-boss jobs queued or active',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
  }),
};
