// The /search route and the operational endpoints through fastify.inject(), on a real PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../services/api/app.js';
import { SearchService } from '../../services/api/search-service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { fixture } from '../helpers/fixtures.js';
import { ingestDocuments, silentLog } from '../helpers/ingest.js';

let db: TestDatabase;
let app: FastifyInstance;
const versions = { version: 1 };

beforeAll(async () => {
  db = await createTestDatabase();
  await ingestDocuments(db.pool, [fixture('response_1.xml'), fixture('response_2.xml')]);
  app = await buildApp({
    log: silentLog,
    search: new SearchService(db.pool, versions, null),
    readiness: { database: async () => (await db.pool.query('SELECT 1'), true), cache: () => 'disabled' },
  });
});
afterAll(async () => {
  await app.close();
  await db.drop();
});

const search = async (qs: string) => {
  const res = await app.inject({ method: 'GET', url: `/search${qs}` });
  return { status: res.statusCode, body: res.json() as { data: { events: Record<string, unknown>[] } | null; error: { code: string; message: string } | null }, headers: res.headers };
};

describe('GET /search', () => {
  it('returns every ever-online plan in the spec envelope, local dates and times, prices as numbers', async () => {
    const { status, body, headers } = await search('?starts_at=2021-01-01T00:00:00Z&ends_at=2022-12-31T00:00:00Z');
    expect(status).toBe(200);
    expect(headers['content-type']).toMatch(/application\/json/);
    expect(body.error).toBeNull();
    expect(body.data!.events).toEqual([
      { id: expect.any(String), title: 'Pantomima Full', start_date: '2021-02-10', start_time: '20:00:00', end_date: '2021-02-10', end_time: '21:30:00', min_price: 55, max_price: 55 },
      { id: expect.any(String), title: 'Pantomima Full', start_date: '2021-02-11', start_time: '20:00:00', end_date: '2021-02-11', end_time: '21:30:00', min_price: 55, max_price: 55 },
      { id: expect.any(String), title: 'Camela en concierto', start_date: '2021-06-30', start_time: '21:00:00', end_date: '2021-06-30', end_time: '22:00:00', min_price: 15, max_price: 30 },
      { id: expect.any(String), title: 'Los Morancos', start_date: '2021-07-31', start_time: '20:00:00', end_date: '2021-07-31', end_time: '21:20:00', min_price: 65, max_price: 65 },
    ]);
    for (const e of body.data!.events) expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('treats both parameters as optional', async () => {
    expect((await search('')).body.data!.events).toHaveLength(4);
    expect((await search('?starts_at=2021-06-01T00:00:00Z')).body.data!.events.map((e) => e.title)).toEqual(['Camela en concierto', 'Los Morancos']);
    expect((await search('?ends_at=2021-03-01T00:00:00Z')).body.data!.events.map((e) => e.start_date)).toEqual(['2021-02-10', '2021-02-11']);
  });

  it('uses inclusive containment: an event must start and end inside the range', async () => {
    // exactly the Camela bounds (UTC source): included
    expect((await search('?starts_at=2021-06-30T21:00:00Z&ends_at=2021-06-30T22:00:00Z')).body.data!.events.map((e) => e.title)).toEqual(['Camela en concierto']);
    // one second short at either end: excluded
    expect((await search('?starts_at=2021-06-30T21:00:01Z&ends_at=2021-06-30T22:00:00Z')).body.data!.events).toEqual([]);
    expect((await search('?starts_at=2021-06-30T21:00:00Z&ends_at=2021-06-30T21:59:59Z')).body.data!.events).toEqual([]);
  });

  it('accepts zone offsets', async () => {
    // 23:00+02:00 == 21:00Z
    expect((await search('?starts_at=2021-06-30T23:00:00%2B02:00&ends_at=2021-07-01T00:00:00%2B02:00')).body.data!.events.map((e) => e.title)).toEqual(['Camela en concierto']);
  });

  it.each([
    ['?starts_at=yesterday', /starts_at/],
    ['?ends_at=2021-13-01T00:00:00Z', /ends_at/],
    ['?starts_at=2021-02-30T00:00:00Z', /starts_at/],
    ['?starts_at=2021-06-30', /starts_at/],
    ['?starts_at=2021-06-30T21:00:00', /starts_at/],
    ['?starts_at=2021-01-01T00:00:00Z&starts_at=2021-02-01T00:00:00Z', /starts_at/],
    ['?starts_at=2022-01-01T00:00:00Z&ends_at=2021-01-01T00:00:00Z', /starts_at must not be after ends_at/],
  ])('answers %s with 400 and the error envelope', async (qs, message) => {
    const { status, body } = await search(qs);
    expect(status).toBe(400);
    expect(body.data).toBeNull();
    expect(body.error!.code).toBe('bad_request');
    expect(body.error!.message).toMatch(message);
  });

  it('sends an ETag and answers a matching If-None-Match with 304', async () => {
    const first = await app.inject({ method: 'GET', url: '/search' });
    const etag = first.headers.etag as string;
    expect(etag).toBeTruthy();
    expect(first.headers['cache-control']).toMatch(/max-age/);
    const again = await app.inject({ method: 'GET', url: '/search', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    versions.version++; // a processor write changes the version, and with it the ETag
    const after = await app.inject({ method: 'GET', url: '/search', headers: { 'if-none-match': etag } });
    expect(after.statusCode).toBe(200);
  });
});

describe('operational endpoints', () => {
  it('serves health, readiness, metrics and the OpenAPI document', async () => {
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await app.inject('/readyz')).json()).toEqual({ status: 'ready', checks: { database: 'up', cache: 'disabled' } });
    const metrics = await app.inject('/metrics');
    expect(metrics.body).toMatch(/plansync_http_request_duration_seconds_bucket/);
    const doc = (await app.inject('/openapi.json')).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain('/search');
  });

  it('answers unknown routes with the error envelope', async () => {
    const res = await app.inject('/nope');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'not_found', message: 'no route for GET /nope' }, data: null });
  });
});

describe('rate limit', () => {
  it('answers past the configured limit with 429 in the error envelope, and never limits probes', async () => {
    const limited = await buildApp({
      log: silentLog,
      search: new SearchService(db.pool, versions, null),
      readiness: { database: async () => true, cache: () => 'disabled' },
      rateLimit: { max: 3, timeWindowMs: 60_000 },
    });
    try {
      const codes = [];
      for (let i = 0; i < 5; i++) codes.push((await limited.inject('/search')).statusCode);
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      const res = await limited.inject('/search');
      expect(res.json()).toMatchObject({ error: { code: 'rate_limited' }, data: null });
      for (let i = 0; i < 5; i++) expect((await limited.inject('/healthz')).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
