import { createHash } from 'node:crypto';
import type pg from 'pg';
import fastJson from 'fast-json-stringify';
import { trace } from '@opentelemetry/api';
import { metrics } from '../core/metrics.js';
import { searchOkSchema, type EventSummary } from './schemas.js';
import { searchEvents, type SearchRange } from './search-repository.js';
import type { SearchCache } from './search-cache.js';
import { LocalCache } from './local-cache.js';

const tracer = trace.getTracer('plansync-api');

const serialize = fastJson(searchOkSchema as never) as (doc: { data: { events: EventSummary[] }; error: null }) => string;

export interface SearchResult {
  body: Buffer;
  etag: string;
  /** local: in-process L1; hit: Redis; miss: Postgres (then cached); nocache: Postgres, no cache configured */
  source: 'local' | 'hit' | 'miss' | 'nocache';
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
  private readonly inflight = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly versions: VersionSource,
    private readonly cache: SearchCache | null,
    private readonly ttlSeconds = 300,
    /** In-process L1 size; 0 = none (then every hit is a Redis round trip). */
    localMaxBytes = 0,
  ) {
    this.local = localMaxBytes > 0 ? new LocalCache(localMaxBytes) : null;
  }

  private readonly local: LocalCache | null;

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
    const local = this.local?.get(key);
    if (local) {
      metrics.cache.inc({ result: 'local' });
      return { body: local, etag, source: 'local' };
    }
    if (this.cache) {
      const hit = await this.cache.get(key);
      if (hit !== null) {
        metrics.cache.inc({ result: 'hit' });
        const body = Buffer.from(hit);
        this.local?.set(key, body, this.ttlSeconds);
        return { body, etag, source: 'hit' };
      }
      metrics.cache.inc({ result: 'miss' });
    }
    const body = await this.singleFlight(key, async () => {
      const events = await searchEvents(this.pool, range);
      const text = serialize({ data: { events }, error: null });
      this.cache?.set(key, text, this.ttlSeconds);
      const buf = Buffer.from(text);
      this.local?.set(key, buf, this.ttlSeconds);
      return buf;
    });
    return { body, etag, source: this.cache ? 'miss' : 'nocache' };
  }

  // Concurrent misses for one key share one database query instead of stampeding Postgres.
  private singleFlight(key: string, load: () => Promise<Buffer>): Promise<Buffer> {
    const running = this.inflight.get(key);
    if (running) return running;
    const p = load().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }
}
