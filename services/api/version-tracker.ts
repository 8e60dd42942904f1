// Keeps the current dataset version in memory: LISTEN for the processor's NOTIFY, plus a slow
// poll as a floor in case a notification is lost while the listening connection reconnects.
import pg from 'pg';
import type { Logger } from '../core/logger.js';
import { CHANGE_CHANNEL } from '../processor/store.js';
import { datasetVersion } from './search-repository.js';
import { fullJitterDelay } from '../core/backoff.js';

export class VersionTracker {
  private current = 0;
  private client: pg.Client | null = null;
  private poll: NodeJS.Timeout | null = null;
  private reconnect: NodeJS.Timeout | null = null;
  private attempts = 0;
  private stopped = false;

  constructor(private readonly pool: pg.Pool, private readonly connectionString: string, private readonly log: Logger, private readonly pollMs = 5000) {}

  get version(): number {
    return this.current;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.poll = setInterval(() => void this.refresh(), this.pollMs);
    this.poll.unref();
    void this.listen();
  }

  async refresh(): Promise<void> {
    try {
      this.observe(await datasetVersion(this.pool));
    } catch (err) {
      this.log.debug({ err }, 'version poll failed');
    }
  }

  observe(version: number): void {
    if (version > this.current) this.current = version;
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.connectionString, application_name: 'plansync-listen' });
    client.on('error', () => this.retry(client));
    client.on('end', () => this.retry(client));
    client.on('notification', (msg) => {
      if (msg.channel === CHANGE_CHANNEL && msg.payload) this.observe(Number(msg.payload));
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      this.client = client;
      this.attempts = 0;
      await this.refresh(); // catch up on anything committed while we were not listening
    } catch {
      this.retry(client);
    }
  }

  private retry(client: pg.Client): void {
    if (this.stopped || this.reconnect) return;
    if (this.client === client) this.client = null;
    client.end().catch(() => {});
    const delay = 100 + fullJitterDelay(this.attempts++, { baseDelayMs: 200, maxDelayMs: 5000 });
    this.reconnect = setTimeout(() => {
      this.reconnect = null;
      void this.listen();
    }, delay);
    this.reconnect.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    if (this.reconnect) clearTimeout(this.reconnect);
    await this.client?.end().catch(() => {});
  }
}
