// Pure: PlanSource spec -> fully defaulted settings, or a list of problems. The CRD schema rejects
// most bad specs at the API server; this catches what a schema cannot (time zones) and guards file mode.
import type { PlanSourceSpec, ResolvedSpec } from './types.js';

export class SpecError extends Error {
  override name = 'SpecError';
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

const CRON_FIELD = /^[\d*,/-]+$/;

/**
 * A fetch interval as a cron expression. pg-boss fires schedules at most once per minute per
 * schedule (its occurrence window is 60 s), so intervals are whole minutes, and must divide the
 * next unit evenly so ticks stay evenly spaced across hour/day boundaries.
 */
export function intervalToCron(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 60 || seconds > 86400 || seconds % 60 !== 0) {
    throw new SpecError([`schedule.intervalSeconds ${seconds} must be a whole number of minutes between 60 and 86400`]);
  }
  const minutes = seconds / 60;
  if (minutes < 60 && 60 % minutes === 0) return minutes === 1 ? '* * * * *' : `*/${minutes} * * * *`;
  if (minutes === 1440) return '0 0 * * *';
  if (minutes % 60 === 0 && 24 % (minutes / 60) === 0) return minutes === 60 ? '0 * * * *' : `0 */${minutes / 60} * * *`;
  throw new SpecError([`schedule.intervalSeconds ${seconds} must divide an hour or a day evenly (e.g. 60, 300, 900, 3600)`]);
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function resolveSpec(spec: PlanSourceSpec | undefined): ResolvedSpec {
  const problems: string[] = [];
  if (!spec || typeof spec !== 'object') throw new SpecError(['spec is required']);
  const url = spec.provider?.url;
  if (typeof url !== 'string' || !/^https?:\/\/[^\s]+$/.test(url)) problems.push('spec.provider.url must be an http(s) URL');
  const format = spec.provider?.format ?? 'fever-xml';
  if (format !== 'fever-xml') problems.push(`spec.provider.format ${JSON.stringify(format)} is not supported (fever-xml)`);
  const timezone = spec.provider?.timezone ?? 'UTC';
  if (!isValidTimeZone(timezone)) problems.push(`spec.provider.timezone ${JSON.stringify(timezone)} is not an IANA time zone`);
  let cron = '';
  const sched = spec.schedule ?? {};
  if (sched.cron && sched.intervalSeconds !== undefined) problems.push('spec.schedule: set either cron or intervalSeconds, not both');
  else if (sched.cron) {
    const fields = sched.cron.trim().split(/\s+/);
    if (fields.length !== 5 || !fields.every((f) => CRON_FIELD.test(f))) problems.push(`spec.schedule.cron ${JSON.stringify(sched.cron)} is not a cron expression`);
    else cron = sched.cron.trim();
  } else {
    try {
      cron = intervalToCron(sched.intervalSeconds ?? 60);
    } catch (err) {
      problems.push(...(err as SpecError).problems);
    }
  }
  const timeoutSeconds = spec.timeoutSeconds ?? 30;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 600) problems.push('spec.timeoutSeconds must be an integer in [1, 600]');
  const retry = { attempts: 3, baseDelayMs: 500, maxDelayMs: 10_000, ...spec.retry };
  if (retry.attempts < 1 || retry.attempts > 10) problems.push('spec.retry.attempts must be in [1, 10]');
  if (retry.baseDelayMs > retry.maxDelayMs) problems.push('spec.retry.baseDelayMs must not exceed maxDelayMs');
  const breaker = { failureThreshold: 5, resetSeconds: 30, ...spec.breaker };
  const processor = {
    minReplicas: 0,
    maxReplicas: 10,
    targetQueueDepthPerWorker: 20,
    activationQueueDepth: 1,
    scaleDownStabilizationSeconds: 300,
    cooldownSeconds: 300,
    ...spec.processor,
  };
  if (processor.minReplicas > processor.maxReplicas) problems.push('spec.processor.minReplicas must not exceed maxReplicas');
  if (processor.targetQueueDepthPerWorker < 1) problems.push('spec.processor.targetQueueDepthPerWorker must be at least 1');
  if (problems.length > 0) throw new SpecError(problems);
  return {
    url: url!,
    format,
    timezone,
    cron,
    timeoutSeconds,
    maxBodyBytes: spec.maxBodyBytes,
    retry,
    breaker,
    processor,
    suspend: spec.suspend ?? false,
    headersSecret: spec.provider.headersFrom?.secretRef.name,
  };
}
