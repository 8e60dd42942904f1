// Pure autoscaling math for the processor: HPA semantics on queue depth, plus KEDA-style
// activation and scale to zero. No I/O; the caller keeps the returned state between calls.
// Each PlanSource is scaled like its own HPA (its own policy, window and cooldown); the
// Deployment gets the sum, so one source's long window never holds another's workers.
//
//   per source s (depth_s = queued + active process jobs of s):
//     depth_s < activation_s  ->  want_s = min_s
//     otherwise               ->  want_s = clamp(ceil(depth_s / target_s), max(min_s, 1), max_s)
//     tolerance: if last_s > 0 and |(depth_s / target_s) / last_s - 1| <= 0.1, want_s = last_s
//     cooldown:  idle but active within cooldown_s -> keep at least 1 worker (KEDA cooldownPeriod)
//     down:      the highest want_s of the last stabilization_s seconds (HPA stabilization window)
//   total = min(globalMax, sum of s)
//   up:     at most max(2 * current, current + 4) per decision (HPA's default scale-up policies)

export interface ProcessorPolicy {
  minReplicas: number;
  maxReplicas: number;
  targetQueueDepthPerWorker: number;
  activationQueueDepth: number;
  scaleDownStabilizationSeconds: number;
  cooldownSeconds: number;
}

export interface SourceLoad {
  key: string;
  depth: number;
  policy: ProcessorPolicy;
}

interface SourceState {
  /** [time ms, recommendation] within the source's stabilization window. */
  recommendations: [number, number][];
  lastActiveAt: number | null;
  last: number;
}

export interface AutoscaleState {
  sources: Record<string, SourceState>;
}

export type ScaleReason = 'scale-up' | 'scale-up-limited' | 'scale-down' | 'stabilizing' | 'cooldown' | 'within-tolerance' | 'steady';

export interface AutoscaleDecision {
  desired: number;
  /** Sum of the sources' unstabilized wants (what a naive ceil(depth/target) would do). */
  raw: number;
  perSource: Record<string, number>;
  reason: ScaleReason;
  state: AutoscaleState;
}

export const TOLERANCE = 0.1;

export const initialAutoscaleState = (): AutoscaleState => ({ sources: {} });

export function decideReplicas(input: { current: number; sources: SourceLoad[]; globalMax: number; now: number; state: AutoscaleState }): AutoscaleDecision {
  const { current, globalMax, now } = input;
  const perSource: Record<string, number> = {};
  const next: AutoscaleState = { sources: {} };
  const reasons = new Set<ScaleReason>();
  let raw = 0;
  for (const { key, depth, policy: p } of input.sources) {
    const prev = input.state.sources[key] ?? { recommendations: [], lastActiveAt: null, last: 0 };
    const active = depth >= Math.max(p.activationQueueDepth, 1);
    const ratio = depth / p.targetQueueDepthPerWorker;
    let want = active ? Math.min(p.maxReplicas, Math.max(p.minReplicas, 1, Math.ceil(ratio))) : p.minReplicas;
    raw += want;
    if (active && prev.last > 0 && Math.abs(ratio / prev.last - 1) <= TOLERANCE) {
      want = Math.min(p.maxReplicas, Math.max(p.minReplicas, prev.last));
      reasons.add('within-tolerance');
    }
    const lastActiveAt = active ? now : prev.lastActiveAt;
    if (!active && want < 1 && prev.last > 0 && lastActiveAt !== null && now - lastActiveAt < p.cooldownSeconds * 1000) {
      want = 1;
      reasons.add('cooldown');
    }
    const windowMs = p.scaleDownStabilizationSeconds * 1000;
    const recommendations = [...prev.recommendations.filter(([t]) => now - t < windowMs), [now, want] as [number, number]];
    let desired = want;
    if (want < prev.last) {
      desired = Math.min(prev.last, Math.max(...recommendations.map(([, r]) => r)));
      if (desired > want) reasons.add('stabilizing');
    }
    perSource[key] = desired;
    next.sources[key] = { recommendations, lastActiveAt, last: desired };
  }
  const total = Math.min(globalMax, Object.values(perSource).reduce((a, b) => a + b, 0));
  let desired = total;
  let reason: ScaleReason = total > current ? 'scale-up' : total < current ? 'scale-down' : reasons.has('within-tolerance') ? 'within-tolerance' : 'steady';
  if (total > current) {
    const limit = Math.max(2 * current, current + 4);
    if (total > limit) {
      desired = limit;
      reason = 'scale-up-limited';
    }
  } else if (total === current && reasons.has('stabilizing')) reason = 'stabilizing';
  else if (total === current && reasons.has('cooldown')) reason = 'cooldown';
  return { desired, raw: Math.min(globalMax, raw), perSource, reason, state: next };
}
