// Provider simulator: serves planList snapshots in rotation, one per request, with fault modes
// that can be scripted per request sequence (deterministic tests) or drawn at random (demos).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { entityBomb, invalidValuesDocument, syntheticPlanList } from './synthetic.js';

export const FAULTS = ['ok', 'http500', 'http503', 'reset', 'slow-first-byte', 'drip', 'truncated', 'invalid', 'huge', 'bomb'] as const;
export type Fault = (typeof FAULTS)[number];

export interface SimulatorOptions {
  /** Snapshots served in rotation (file contents). */
  documents: string[];
  port?: number;
  host?: string;
  /** Added before every response. */
  latencyMs?: number;
  /** Probability that a request gets `randomFault` instead of a document. */
  failureRate?: number;
  randomFault?: Fault;
  /** Scripted faults, one per request in order, then plain `ok`. */
  faults?: Fault[];
  /** Cycle the fault script forever instead of once. */
  loopFaults?: boolean;
  stallMs?: number;
  huge?: { plans: number; zonesPerPlan: number };
  random?: () => number;
}

export class ProviderSimulator {
  private server: http.Server | null = null;
  private nextDoc = 0;
  private nextFault = 0;
  requests = 0;
  readonly served: Fault[] = [];

  constructor(private readonly opts: SimulatorOptions) {
    if (opts.documents.length === 0) throw new Error('provider-sim needs at least one document');
  }

  static fromFiles(files: string[], opts: Omit<SimulatorOptions, 'documents'> = {}): ProviderSimulator {
    return new ProviderSimulator({ ...opts, documents: files.map((f) => readFileSync(f, 'utf8')) });
  }

  get url(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error('simulator not started');
    return `http://127.0.0.1:${addr.port}/api/events`;
  }

  setFaults(faults: Fault[], loop = false): void {
    this.opts.faults = faults;
    this.opts.loopFaults = loop;
    this.nextFault = 0;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }

  private pickFault(): Fault {
    const script = this.opts.faults ?? [];
    if (script.length > 0) {
      if (this.nextFault < script.length) return script[this.nextFault++]!;
      if (this.opts.loopFaults) {
        this.nextFault = 1;
        return script[0]!;
      }
    }
    const random = this.opts.random ?? Math.random;
    if (this.opts.failureRate && random() < this.opts.failureRate) return this.opts.randomFault ?? 'http503';
    return 'ok';
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.url === '/healthz') {
      res.end('ok');
      return;
    }
    this.requests++;
    const fault = this.pickFault();
    this.served.push(fault);
    const stall = this.opts.stallMs ?? 5000;
    if (this.opts.latencyMs) await delay(this.opts.latencyMs);
    const xmlHeaders = { 'content-type': 'application/xml; charset=utf-8' };
    switch (fault) {
      case 'http500':
      case 'http503':
        res.writeHead(fault === 'http500' ? 500 : 503, { 'content-type': 'text/plain' }).end('provider error');
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'slow-first-byte':
        await delay(stall);
        if (!res.destroyed) this.serveDocument(req, res);
        return;
      case 'drip': {
        const body = this.takeDocument();
        res.writeHead(200, xmlHeaders);
        for (let i = 0; i < body.length && !res.destroyed; i += 64) {
          res.write(body.slice(i, i + 64));
          await delay(stall / 4);
        }
        res.end();
        return;
      }
      case 'truncated': {
        const body = this.takeDocument();
        res.writeHead(200, xmlHeaders);
        res.end(body.slice(0, Math.floor(body.length * 0.6)));
        return;
      }
      case 'invalid':
        res.writeHead(200, xmlHeaders).end(invalidValuesDocument());
        return;
      case 'bomb':
        res.writeHead(200, xmlHeaders).end(entityBomb());
        return;
      case 'huge': {
        res.writeHead(200, xmlHeaders);
        const huge = this.opts.huge ?? { plans: 10_000, zonesPerPlan: 100 };
        for (const part of syntheticPlanList(huge)) {
          if (res.destroyed) return;
          if (!res.write(part)) await new Promise((r) => res.once('drain', r));
        }
        res.end();
        return;
      }
      case 'ok':
        this.serveDocument(req, res);
        return;
    }
  }

  private takeDocument(): string {
    const doc = this.opts.documents[this.nextDoc % this.opts.documents.length]!;
    this.nextDoc++;
    return doc;
  }

  private serveDocument(req: http.IncomingMessage, res: http.ServerResponse): void {
    const doc = this.takeDocument();
    const etag = `"${createHash('sha1').update(doc).digest('hex').slice(0, 16)}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/xml; charset=utf-8', etag, 'content-length': Buffer.byteLength(doc) }).end(doc);
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
