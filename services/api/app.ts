import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Logger } from '../core/logger.js';
import fp from 'fastify-plugin';
import { metrics, registry } from '../core/metrics.js';
import { errorBody } from './schemas.js';
import { searchRoute } from './search-route.js';
import type { SearchService } from './search-service.js';
import { openApiDocument } from './openapi.js';

export interface Readiness {
  /** Hard dependency: the API cannot answer without it. */
  database(): Promise<boolean>;
  /** Soft dependency: down means degraded (slower), not unready. */
  cache(): 'up' | 'degraded' | 'disabled';
}

export interface AppOptions {
  log: Logger;
  search: SearchService;
  readiness: Readiness;
  rateLimit?: { max: number; timeWindowMs: number } | undefined;
}

// Every error leaves in the spec's envelope: {error: {code, message}, data: null}.
// fastify-plugin: these hooks and handlers apply to the whole app, not just an encapsulated child.
const errorEnvelope = fp(async (app) => {
  app.setErrorHandler((err: Error & { validation?: unknown; statusCode?: number }, req, reply) => {
    if (err.validation) {
      return reply.code(400).send(errorBody('bad_request', err.message));
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'request failed');
    const code = status === 429 ? 'rate_limited' : status === 500 ? 'internal_error' : 'bad_request';
    return reply.code(status).send(errorBody(code, status === 500 ? 'internal error' : err.message));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody('not_found', `no route for ${req.method} ${req.url.split('?')[0]}`)));
});

const requestMetrics = fp(async (app) => {
  app.addHook('onResponse', async (req, reply) => {
    metrics.httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
});

const operations = (readiness: Readiness): FastifyPluginAsync => async (app) => {
  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));
  app.get('/readyz', { logLevel: 'warn' }, async (_req, reply) => {
    const database = await readiness.database().catch(() => false);
    const cache = readiness.cache();
    const status = !database ? 'unready' : cache === 'degraded' ? 'degraded' : 'ready';
    return reply.code(database ? 200 : 503).send({ status, checks: { database: database ? 'up' : 'down', cache } });
  });
  app.get('/metrics', { logLevel: 'warn' }, async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  const doc = JSON.stringify(openApiDocument());
  app.get('/openapi.json', async (_req, reply) => reply.type('application/json').send(doc));
};

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.log as FastifyBaseLogger,
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
  });
  await app.register(errorEnvelope);
  await app.register(requestMetrics);
  if (opts.rateLimit && opts.rateLimit.max > 0) {
    const { default: rateLimit } = await import('@fastify/rate-limit');
    await app.register(rateLimit, {
      max: opts.rateLimit.max,
      timeWindow: opts.rateLimit.timeWindowMs,
      allowList: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics',
      errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, ...errorBody('rate_limited', `rate limit exceeded, retry in ${ctx.after}`) }),
    });
  }
  // Per-request access logs at info level would dominate the hot path; request metrics cover it.
  await app.register(operations(opts.readiness), { logLevel: 'warn' });
  await app.register(searchRoute, { search: opts.search, logLevel: 'warn' });
  return app;
}
