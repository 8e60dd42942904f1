// One HTTP GET of a provider snapshot, spooled to a temporary file while hashing it.
// Spooling keeps memory flat for any body size and lets an unchanged snapshot be
// recognised (by hash) before a single plan is parsed or enqueued.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { request, errors as undiciErrors } from 'undici';

export type FetchFailureReason =
  | 'http_status'
  | 'timeout'
  | 'connection'
  | 'too_large'
  | 'truncated'
  | 'malformed'
  | 'breaker_open';

export class FetchFailure extends Error {
  override name = 'FetchFailure';
  constructor(readonly reason: FetchFailureReason, message: string, readonly retryable = true, options?: ErrorOptions) {
    super(message, options);
  }
}

export interface SnapshotRequest {
  url: string;
  headers?: Record<string, string> | undefined;
  etag?: string | null | undefined;
  lastModified?: string | null | undefined;
  /** Time to response headers (covers connect and slow first byte). */
  headersTimeoutMs: number;
  /** Longest silence allowed between body chunks (slow drip). */
  bodyTimeoutMs: number;
  /** Whole request deadline. */
  totalTimeoutMs: number;
  maxBodyBytes: number;
}

export type Snapshot =
  | { status: 'not_modified' }
  | { status: 'ok'; file: string; bytes: number; sha256: string; etag: string | null; lastModified: string | null; cleanup(): Promise<void> };

function header(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

export async function fetchSnapshot(req: SnapshotRequest): Promise<Snapshot> {
  const headers: Record<string, string> = { accept: 'application/xml, text/xml;q=0.9, */*;q=0.1', ...req.headers };
  if (req.etag) headers['if-none-match'] = req.etag;
  if (req.lastModified) headers['if-modified-since'] = req.lastModified;
  const deadline = AbortSignal.timeout(req.totalTimeoutMs);
  let res;
  try {
    res = await request(req.url, {
      method: 'GET',
      headers,
      headersTimeout: req.headersTimeoutMs,
      bodyTimeout: req.bodyTimeoutMs,
      signal: deadline,
    });
  } catch (err) {
    throw classify(err);
  }
  if (res.statusCode === 304) {
    res.body.resume();
    return { status: 'not_modified' };
  }
  if (res.statusCode < 200 || res.statusCode > 299) {
    await res.body.dump().catch(() => {});
    // 4xx other than 408/429 will not get better by retrying.
    const retryable = res.statusCode >= 500 || res.statusCode === 408 || res.statusCode === 429;
    throw new FetchFailure('http_status', `provider answered HTTP ${res.statusCode}`, retryable);
  }
  const declared = Number(header(res.headers['content-length']) ?? NaN);
  if (Number.isFinite(declared) && declared > req.maxBodyBytes) {
    res.body.destroy();
    throw new FetchFailure('too_large', `body of ${declared} bytes exceeds the limit of ${req.maxBodyBytes}`, false);
  }
  const dir = await mkdtemp(join(tmpdir(), 'plansync-fetch-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const file = join(dir, 'snapshot.xml');
  const out = createWriteStream(file);
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > req.maxBodyBytes) {
        throw new FetchFailure('too_large', `body exceeds the limit of ${req.maxBodyBytes} bytes`, false);
      }
      hash.update(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  } catch (err) {
    res.body.destroy();
    out.destroy();
    await cleanup();
    throw err instanceof FetchFailure ? err : classify(err);
  }
  if (Number.isFinite(declared) && declared !== bytes) {
    await cleanup();
    throw new FetchFailure('truncated', `body ended after ${bytes} of ${declared} bytes`);
  }
  return {
    status: 'ok',
    file,
    bytes,
    sha256: hash.digest('hex'),
    etag: header(res.headers.etag),
    lastModified: header(res.headers['last-modified']),
    cleanup,
  };
}

function classify(err: unknown): FetchFailure {
  const e = err as Error & { code?: string; cause?: { code?: string } };
  if (
    e instanceof undiciErrors.HeadersTimeoutError ||
    e instanceof undiciErrors.BodyTimeoutError ||
    e instanceof undiciErrors.ConnectTimeoutError ||
    e.name === 'TimeoutError' ||
    e.name === 'AbortError'
  ) {
    return new FetchFailure('timeout', `provider timed out: ${e.message}`, true, { cause: err });
  }
  if (e instanceof undiciErrors.ResponseContentLengthMismatchError || e.code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return new FetchFailure('truncated', `body truncated: ${e.message}`, true, { cause: err });
  }
  if (e instanceof undiciErrors.InvalidArgumentError) {
    return new FetchFailure('connection', `invalid request: ${e.message}`, false, { cause: err });
  }
  return new FetchFailure('connection', `connection failed: ${e.code ?? e.cause?.code ?? ''} ${e.message}`.trim(), true, { cause: err });
}
