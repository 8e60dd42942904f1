// Lease-based leader election with client-go's semantics: a lease is taken over only after it has
// gone unrenewed for its whole duration *as observed locally* (no trust in other clocks); the
// leader renews every retry period and gives up if it cannot renew within the renew deadline.
// Losing leadership ends the process (controller-runtime does the same): a clean restart is
// safer than a half-stopped controller that may still write.
import type { Logger } from '../../services/core/logger.js';
import { statusOf, type KubeClient, type LeaseRecord } from './client.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void | Promise<void>;
  onStoppedLeading: () => void;
  onNewLeader?: (identity: string | undefined) => void;
}

export class LeaderElector {
  private observed: { record: LeaseRecord | null; at: number } = { record: null, at: 0 };
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private lastRenew = 0;
  private acquiredAt: Date | null = null;
  private readonly durationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;

  constructor(
    private readonly kube: KubeClient,
    private readonly log: Logger,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.durationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
    if (!(this.durationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryMs)) {
      throw new Error('leader election needs leaseDuration > renewDeadline > retryPeriod');
    }
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    const tick = async () => {
      if (this.stopped) return;
      try {
        await this.tryAcquireOrRenew();
      } catch (err) {
        this.log.debug({ err: { message: (err as Error).message, status: statusOf(err) } }, 'lease update failed');
      }
      if (this.leading && Date.now() - this.lastRenew > this.renewDeadlineMs) {
        this.leading = false;
        this.log.error({ lease: this.opts.name }, 'leader lease not renewed within the renew deadline: stepping down');
        this.opts.onStoppedLeading();
        return;
      }
      if (!this.stopped) this.timer = setTimeout(tick, this.retryMs);
    };
    void tick();
  }

  /** Stops campaigning; a leader releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    const rec = this.observed.record;
    if (rec?.holder === this.opts.identity) {
      const past = new Date(Date.now() - this.durationMs - 1000);
      await this.kube
        .writeLease(this.opts.namespace, this.opts.name, { holder: '', durationSeconds: 1, transitions: rec.transitions, acquireTime: past, renewTime: past }, rec.resourceVersion)
        .catch((err) => this.log.debug({ err: { message: (err as Error).message } }, 'lease release failed'));
    }
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { namespace, name, identity } = this.opts;
    const now = new Date();
    const current = await this.kube.readLease(namespace, name);
    const seconds = Math.ceil(this.durationMs / 1000);
    if (!current) {
      const rec = await this.kube.writeLease(namespace, name, { holder: identity, durationSeconds: seconds, transitions: 0, acquireTime: now, renewTime: now });
      return this.becameLeader(rec);
    }
    // Track when *we* last saw the record change; expiry is measured from that, not its timestamps.
    if (!this.observed.record || this.observed.record.resourceVersion !== current.resourceVersion) {
      if (current.holder !== this.observed.record?.holder) this.opts.onNewLeader?.(current.holder);
      this.observed = { record: current, at: Date.now() };
    }
    const heldByOther = current.holder && current.holder !== identity;
    const expired = Date.now() > this.observed.at + current.durationSeconds * 1000;
    if (heldByOther && !expired) {
      if (this.leading) {
        this.leading = false;
        this.opts.onStoppedLeading();
      }
      return;
    }
    const transitions = current.holder === identity ? current.transitions : current.transitions + 1;
    const rec = await this.kube.writeLease(
      namespace,
      name,
      { holder: identity, durationSeconds: seconds, transitions, acquireTime: current.holder === identity ? (this.acquiredAt ?? now) : now, renewTime: now },
      current.resourceVersion, // compare-and-swap: two candidates cannot both win
    );
    this.becameLeader(rec);
  }

  private becameLeader(rec: LeaseRecord): void {
    this.observed = { record: rec, at: Date.now() };
    this.lastRenew = Date.now();
    if (this.leading) return;
    this.leading = true;
    this.acquiredAt = new Date();
    this.log.info({ lease: this.opts.name, identity: this.opts.identity }, 'became leader');
    void Promise.resolve(this.opts.onStartedLeading()).catch((err) => {
      this.log.error({ err }, 'leader start failed');
      this.opts.onStoppedLeading();
    });
  }
}
