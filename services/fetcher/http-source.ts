// One HTTP GET of a provider snapshot, spooled to a temporary file while hashing it.
// Spooling keeps memory flat for any body size and lets an unchanged snapshot be
// recognised (by hash) before a single plan is parsed or enqueued.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';

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
  /** Longest silence allowed on the socket: covers connect, a slow first byte and gaps in the body. */
  idleTimeoutMs: number;
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

// node:http rather than undici: undici 7 (bundled and npm) can fail an internal assertion and take
// the process down when a server closes the connection while the body is paused for backpressure.
const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, maxSockets: 64 }) };

function get(url: URL, headers: Record<string, string>, idleTimeoutMs: number, signal: AbortSignal): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const req = (secure ? https : http).request(url, { method: 'GET', headers, agent: secure ? agents.https : agents.http, signal });
    // Socket idle timeout: covers connect, a slow first byte, and silence between body chunks.
    req.setTimeout(idleTimeoutMs, () => req.destroy(Object.assign(new Error(`no data for ${idleTimeoutMs} ms`), { name: 'TimeoutError' })));
    req.once('response', (res) => {
      res.once('error', () => {}); // surfaced to the body reader
      resolve(res);
    });
    req.once('error', reject);
    req.end();
  });
}

export async function fetchSnapshot(req: SnapshotRequest): Promise<Snapshot> {
  const headers: Record<string, string> = { accept: 'application/xml, text/xml;q=0.9, */*;q=0.1', ...req.headers };
  if (req.etag) headers['if-none-match'] = req.etag;
  if (req.lastModified) headers['if-modified-since'] = req.lastModified;
  const deadline = AbortSignal.timeout(req.totalTimeoutMs);
  let url: URL;
  try {
    url = new URL(req.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported protocol ${url.protocol}`);
  } catch (err) {
    throw new FetchFailure('connection', `invalid provider URL: ${(err as Error).message}`, false);
  }
  let res: http.IncomingMessage;
  try {
    res = await get(url, headers, req.idleTimeoutMs, deadline);
  } catch (err) {
    throw classify(err);
  }
  const status = res.statusCode ?? 0;
  if (status === 304) {
    res.resume();
    return { status: 'not_modified' };
  }
  if (status < 200 || status > 299) {
    res.resume();
    // 4xx other than 408/429 will not get better by retrying.
    const retryable = status >= 500 || status === 408 || status === 429;
    throw new FetchFailure('http_status', `provider answered HTTP ${status}`, retryable);
  }
  const declared = Number(header(res.headers['content-length']) ?? NaN);
  if (Number.isFinite(declared) && declared > req.maxBodyBytes) {
    res.destroy();
    throw new FetchFailure('too_large', `body of ${declared} bytes exceeds the limit of ${req.maxBodyBytes}`, false);
  }
  const dir = await mkdtemp(join(tmpdir(), 'plansync-fetch-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const file = join(dir, 'snapshot.xml');
  const out = createWriteStream(file);
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
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
    res.destroy();
    out.destroy();
    await cleanup();
    if (err instanceof FetchFailure) throw err;
    throw deadline.aborted ? new FetchFailure('timeout', `provider exceeded the ${req.totalTimeoutMs} ms deadline`, true, { cause: err }) : classify(err);
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
  const e = err as Error & { code?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'ABORT_ERR' || e.code === 'ETIMEDOUT') {
    return new FetchFailure('timeout', `provider timed out: ${e.message}`, true, { cause: err });
  }
  if (e.code === 'ECONNRESET' && /aborted/i.test(e.message)) {
    return new FetchFailure('truncated', `body cut off: ${e.message}`, true, { cause: err });
  }
  return new FetchFailure('connection', `connection failed: ${[e.code, e.message].filter(Boolean).join(' ')}`, true, { cause: err });
}
