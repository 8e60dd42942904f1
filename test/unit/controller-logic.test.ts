// Pure controller logic without servers: the autoscaling formula (table), the work queue, and the
// informer's recovery paths driven by a scripted fake of the list/watch calls.
import { describe, expect, it } from '@jest/globals';
import { decideReplicas, initialAutoscaleState, type AutoscaleState, type ProcessorPolicy } from '../../controller/autoscale/hpa.js';
import { WorkQueue } from '../../controller/kube/workqueue.js';
import { DEFAULT_POLICY } from '../../controller/autoscale/autoscaler.js';
import { PlanSourceInformer } from '../../controller/kube/informer.js';
import type { KubeClient, WatchPhase } from '../../controller/kube/client.js';
import type { PlanSource } from '../../controller/plansource/types.js';
import { setCondition } from '../../controller/plansource/reconcile.js';
import { silentLog } from '../helpers/ingest.js';
import { waitFor } from '../helpers/ports.js';

// The CRD's defaults: min 0, max 10, target 20 per worker, activation 1, window and cooldown 300 s.
const policy = (p: Partial<ProcessorPolicy> = {}): ProcessorPolicy => ({ ...DEFAULT_POLICY, ...p });

describe('decideReplicas (HPA semantics on queue depth)', () => {
  // [name, current, depth, policy, last desired for the source, expected desired, expected reason]
  it.each([
    ['idle stays at zero', 0, 0, {}, 0, 0, 'steady'],
    ['below activation stays at zero', 0, 4, { activationQueueDepth: 5 }, 0, 0, 'steady'],
    ['activation wakes from zero: at least one', 0, 5, { activationQueueDepth: 5 }, 0, 1, 'scale-up'],
    ['ceil(depth / target)', 2, 50, {}, 2, 3, 'scale-up'],
    ['exact multiple', 3, 60, {}, 3, 3, 'within-tolerance'],
    ['within 10% tolerance keeps current', 5, 108, {}, 5, 5, 'within-tolerance'],
    ['just outside tolerance scales', 5, 112, {}, 5, 6, 'scale-up'],
    ['capped by maxReplicas', 4, 1000, { maxReplicas: 6 }, 4, 6, 'scale-up'],
    ['minReplicas floor while idle', 2, 0, { minReplicas: 2 }, 2, 2, 'steady'],
    ['scale-up rate limit from zero: +4', 0, 400, {}, 0, 4, 'scale-up-limited'],
    ['scale-up rate limit: at most double', 5, 400, { maxReplicas: 50 }, 5, 10, 'scale-up-limited'],
  ] as const)('%s', (_name, current, depth, p, last, expected, reason) => {
    const state: AutoscaleState = { sources: { s: { recommendations: [], lastActiveAt: last > 0 ? 0 : null, last } } };
    const d = decideReplicas({ current, sources: [{ key: 's', depth, policy: policy(p) }], globalMax: 100, now: 1000, state });
    expect(d.desired).toBe(expected);
    expect(d.reason).toBe(reason);
  });

  it('sums sources, each with its own policy, and caps at the global maximum', () => {
    const d = decideReplicas({
      current: 0,
      sources: [
        { key: 'a', depth: 100, policy: policy({ targetQueueDepthPerWorker: 50 }) }, // 2
        { key: 'b', depth: 30, policy: policy({ targetQueueDepthPerWorker: 10 }) }, // 3
        { key: 'c', depth: 0, policy: policy({ minReplicas: 1 }) }, // 1
      ],
      globalMax: 5,
      now: 0,
      state: initialAutoscaleState(),
    });
    expect(d.perSource).toEqual({ a: 2, b: 3, c: 1 });
    expect(d.desired).toBe(4); // 6 capped to 5, then the +4 step limit from zero
    expect(d.raw).toBe(5);
  });

  it('scales down only after the stabilization window, and to zero only after the cooldown', () => {
    const p = policy({ scaleDownStabilizationSeconds: 60, cooldownSeconds: 120 });
    let state = initialAutoscaleState();
    let current = 0;
    const step = (t: number, depth: number) => {
      const d = decideReplicas({ current, sources: [{ key: 's', depth, policy: p }], globalMax: 100, now: t * 1000, state });
      state = d.state;
      current = d.desired;
      return d;
    };
    expect(step(0, 80).desired).toBe(4);
    expect(step(15, 80).desired).toBe(4);
    // Load drops: the recommendation is 1 but the window still holds 4.
    expect(step(30, 20)).toMatchObject({ desired: 4, reason: 'stabilizing' });
    expect(step(60, 20).desired).toBe(4);
    expect(step(76, 20).desired).toBe(1); // 4 was recommended at t=15, more than 60 s ago
    // Idle: the cooldown keeps one worker for 120 s after the last activity (t=76).
    expect(step(90, 0)).toMatchObject({ desired: 1, reason: 'cooldown' });
    expect(step(190, 0).desired).toBe(1);
    // Cooldown over at t=196; the window still holds the 1 recommended at t=190.
    expect(step(200, 0)).toMatchObject({ desired: 1, reason: 'stabilizing' });
    expect(step(251, 0).desired).toBe(0);
    // A burst wakes it again at once (scale-up is never stabilized).
    expect(step(205, 200).desired).toBe(4);
  });

  it('does not flap on a depth oscillating around a boundary', () => {
    const p = policy({ scaleDownStabilizationSeconds: 300 });
    let state = initialAutoscaleState();
    let current = 0;
    const seen: number[] = [];
    for (let t = 0; t < 600; t += 15) {
      const depth = t % 30 === 0 ? 61 : 39; // ceil: 4 vs 2
      const d = decideReplicas({ current, sources: [{ key: 's', depth, policy: p }], globalMax: 100, now: t * 1000, state });
      state = d.state;
      current = d.desired;
      seen.push(current);
    }
    expect(new Set(seen.slice(1))).toEqual(new Set([4]));
  });
});

describe('WorkQueue', () => {
  it('dedupes a key added many times while queued', async () => {
    const q = new WorkQueue();
    for (let i = 0; i < 5; i++) q.add('a');
    q.add('b');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands one key to two workers; re-adds while processing come back after done()', async () => {
    const q = new WorkQueue();
    q.add('a');
    const k = await q.get();
    q.add('a'); // changed while being reconciled
    expect(q.len()).toBe(0);
    const next = q.get();
    q.done(k!);
    expect(await next).toBe('a');
  });

  it('backs off failed keys exponentially with jitter, capped, and forgets on success', () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 1000 }, {}, () => 0.999);
    const delays = Array.from({ length: 10 }, () => q.addRateLimited('a'));
    expect(delays.slice(0, 4)).toEqual([10, 19, 39, 79]); // never below the base delay
    expect(Math.max(...delays)).toBeLessThanOrEqual(1000);
    expect(q.retries('a')).toBe(10);
    q.forget('a');
    expect(q.retries('a')).toBe(0);
    q.shutDown();
  });

  it('addAfter keeps the earliest pending time and fires once', async () => {
    const q = new WorkQueue();
    q.addAfter('a', 5000);
    q.addAfter('a', 20);
    q.addAfter('a', 4000);
    expect(await q.get()).toBe('a');
    expect(q.len()).toBe(0);
    q.shutDown();
    expect(await q.get()).toBeNull();
  });
});

describe('setCondition', () => {
  it('keeps lastTransitionTime unless the status changes', () => {
    const t1 = new Date('2026-01-01T00:00:00Z');
    const t2 = new Date('2026-01-02T00:00:00Z');
    const a = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Scheduled', message: '', observedGeneration: 1 }, t1);
    const b = setCondition(a, { type: 'Ready', status: 'True', reason: 'Scheduled', message: 'x', observedGeneration: 2 }, t2);
    expect(b[0]).toMatchObject({ lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 2 });
    const c = setCondition(b, { type: 'Ready', status: 'False', reason: 'Suspended', message: '', observedGeneration: 3 }, t2);
    expect(c[0]!.lastTransitionTime).toBe('2026-01-02T00:00:00Z');
  });
});

// A scripted list/watch: each watch() call takes the next script entry.
type Step = { events?: [WatchPhase, Partial<PlanSource> & { code?: number }][]; end?: 'close' | 'error' | 'hang' };
function fakeKube(lists: PlanSource[][], script: Step[]) {
  const calls = { lists: 0, watches: [] as string[] };
  const client = {
    async listPlanSources() {
      const items = lists[Math.min(calls.lists, lists.length - 1)]!;
      calls.lists++;
      return { items, resourceVersion: `list-${calls.lists}` };
    },
    async watchPlanSources(_ns: string | null, rv: string, _t: number, onEvent: (p: WatchPhase, o: PlanSource) => void, done: (e: unknown) => void) {
      calls.watches.push(rv);
      const step = script.shift() ?? { end: 'hang' };
      const ac = new AbortController();
      setTimeout(() => {
        for (const [phase, obj] of step.events ?? []) onEvent(phase, obj as PlanSource);
        if (step.end === 'close') done(null);
        else if (step.end === 'error') done(new Error('connection reset'));
      }, 10);
      return ac;
    },
  };
  return { client: client as unknown as KubeClient, calls };
}
const ps = (name: string, rv: string): PlanSource => ({ apiVersion: 'plansync.dev/v1alpha1', kind: 'PlanSource', metadata: { name, namespace: 'n', resourceVersion: rv }, spec: { provider: { url: 'http://x' } } });

describe('PlanSourceInformer recovery', () => {
  it('resumes from the last resourceVersion (bookmarks included) after a clean watch timeout', async () => {
    const { client, calls } = fakeKube([[ps('a', '1')]], [{ events: [['MODIFIED', ps('a', '7')], ['BOOKMARK', { metadata: { name: '', resourceVersion: '9' } }]], end: 'close' }]);
    const changes: string[] = [];
    const inf = new PlanSourceInformer(client, silentLog, { namespace: 'n', onChange: (k, o) => changes.push(`${k}:${o?.metadata.resourceVersion ?? 'deleted'}`) });
    await inf.start();
    await waitFor(() => calls.watches.length >= 2, 2000, 'second watch');
    await inf.stop();
    expect(calls.watches).toEqual(['list-1', '9']);
    expect(calls.lists).toBe(1);
    expect(changes).toEqual(['n/a:1', 'n/a:7']);
  });

  it('relists on 410 Gone and reports objects deleted meanwhile', async () => {
    const { client, calls } = fakeKube([[ps('a', '1'), ps('b', '1')], [ps('b', '5')]], [{ events: [['ERROR', { code: 410 } as never]], end: 'hang' }]);
    const changes: string[] = [];
    const restarts: string[] = [];
    const inf = new PlanSourceInformer(client, silentLog, { namespace: 'n', onChange: (k, o) => changes.push(`${k}:${o?.metadata.resourceVersion ?? 'deleted'}`), onRestart: (r) => restarts.push(r) });
    await inf.start();
    await waitFor(() => calls.lists >= 2, 2000, 'relist');
    await waitFor(() => changes.includes('n/a:deleted'), 2000, 'delete seen');
    await inf.stop();
    expect(restarts[0]).toContain('410');
    expect(changes).toContain('n/b:5');
    expect(inf.keys()).toEqual(['n/b']);
  });

  it('restarts a watch that goes silent (half-open connection) from the last resourceVersion', async () => {
    const { client, calls } = fakeKube([[ps('a', '1')]], [{ events: [['MODIFIED', ps('a', '4')]], end: 'hang' }, { events: [['ADDED', ps('c', '5')]], end: 'hang' }]);
    const restarts: string[] = [];
    const inf = new PlanSourceInformer(client, silentLog, { namespace: 'n', silenceMs: 300, onChange: () => {}, onRestart: (r) => restarts.push(r) });
    await inf.start();
    await waitFor(() => inf.get('n/c'), 3000, 'event on the restarted watch');
    await inf.stop();
    expect(restarts[0]).toBe('watch silent');
    expect(calls.watches.slice(0, 2)).toEqual(['list-1', '4']);
    expect(calls.lists).toBe(1);
  });

  it('relists periodically even when the watch is healthy, and reports what changed', async () => {
    const { client, calls } = fakeKube([[ps('a', '1')], [ps('b', '2')]], [{ end: 'hang' }]);
    const changes: string[] = [];
    const inf = new PlanSourceInformer(client, silentLog, { namespace: 'n', relistMs: 300, silenceMs: 10_000, onChange: (k, o) => changes.push(`${k}:${o ? 'set' : 'deleted'}`) });
    await inf.start();
    await waitFor(() => calls.lists >= 2, 3000, 'periodic relist');
    await inf.stop();
    expect(changes).toEqual(expect.arrayContaining(['n/a:set', 'n/b:set', 'n/a:deleted']));
  });

  it('backs off and relists after a watch error', async () => {
    const { client, calls } = fakeKube([[ps('a', '1')]], [{ end: 'error' }, { end: 'hang' }]);
    const inf = new PlanSourceInformer(client, silentLog, { namespace: 'n', onChange: () => {} });
    await inf.start();
    await waitFor(() => calls.watches.length >= 2, 3000, 're-watch');
    await inf.stop();
    expect(calls.lists).toBe(2);
  });
});
