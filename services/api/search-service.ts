import { createHash } from 'node:crypto';
import type pg from 'pg';
import fastJson from 'fast-json-stringify';
import { trace } from '@opentelemetry/api';
import { metrics } from '../core/metrics.js';
import { searchOkSchema, type EventSummary } from './schemas.js';
import { searchEvents, type SearchRange } from './search-repository.js';
import type { SearchCache } from './search-cache.js';

const tracer = trace.getTracer('plansync-api');

const serialize = fastJson(searchOkSchema as never) as (doc: { data: { events: EventSummary[] }; error: null }) => string;

export interface SearchResult {
  body: string;
  etag: string;
  source: 'hit' | 'miss' | 'nocache';
}

export interface VersionSource {
  readonly version: number;
}

/** Normalizes an RFC 3339 instant so equal instants written differently share one cache entry. */
export function canonicalInstant(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return value; // Postgres parses what Date cannot (e.g. year 0001); pass through
  return new Date(ms).toISOString();
}

export class SearchService {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly versions: VersionSource,
    private readonly cache: SearchCache | null,
    private readonly ttlSeconds = 300,
  ) {}

  search(query: SearchRange): Promise<SearchResult> {
    return tracer.startActiveSpan('search', async (span) => {
      try {
        const result = await this.lookup(query);
        span.setAttribute('plansync.cache', result.source);
        return result;
      } finally {
        span.end();
      }
    });
  }

  private async lookup(query: SearchRange): Promise<SearchResult> {
    const range = { startsAt: canonicalInstant(query.startsAt), endsAt: canonicalInstant(query.endsAt) };
    const version = this.versions.version;
    // The version is part of the key: a processor write bumps it, so stale entries are simply never read again.
    const key = `plansync:search:v${version}:${range.startsAt ?? ''}:${range.endsAt ?? ''}`;
    const etag = `"${createHash('sha1').update(key).digest('base64url').slice(0, 22)}"`;
    if (this.cache) {
      const hit = await this.cache.get(key);
      if (hit !== null) {
        metrics.cache.inc({ result: 'hit' });
        return { body: hit, etag, source: 'hit' };
      }
      metrics.cache.inc({ result: 'miss' });
    }
    const body = await this.singleFlight(key, async () => {
      const events = await searchEvents(this.pool, range);
      const text = serialize({ data: { events }, error: null });
      this.cache?.set(key, text, this.ttlSeconds);
      return text;
    });
    return { body, etag, source: this.cache ? 'miss' : 'nocache' };
  }

  // Concurrent misses for one key share one database query instead of stampeding Postgres.
  private singleFlight(key: string, load: () => Promise<string>): Promise<string> {
    const running = this.inflight.get(key);
    if (running) return running;
    const p = load().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }
}
