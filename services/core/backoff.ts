// Exponential backoff with full jitter (AWS architecture blog): sleep = random(0, min(cap, base * 2^attempt)).
// Full jitter spreads retries from many clients so a recovering provider is not hit in lockstep.
export interface BackoffPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
}

export function backoffCeiling(attempt: number, policy: BackoffPolicy): number {
  const exp = policy.baseDelayMs * 2 ** Math.min(Math.max(attempt, 0), 30);
  return Math.min(policy.maxDelayMs, exp);
}

export function fullJitterDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(attempt, policy));
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
