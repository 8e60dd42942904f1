import { describe, expect, it } from '@jest/globals';
import { backoffCeiling, fullJitterDelay } from '../../services/core/backoff.js';
import { intervalToCron, resolveSpec, SpecError } from '../../controller/plansource/resolve.js';
import { loadConfig, ConfigError } from '../../services/core/config.js';

describe('full-jitter backoff', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 5000 };
  it('grows exponentially up to the cap', () => {
    expect([0, 1, 2, 3, 10, 100].map((a) => backoffCeiling(a, policy))).toEqual([100, 200, 400, 800, 5000, 5000]);
  });
  it('draws uniformly below the ceiling', () => {
    expect(fullJitterDelay(3, policy, () => 0)).toBe(0);
    expect(fullJitterDelay(3, policy, () => 0.5)).toBe(400);
    expect(fullJitterDelay(3, policy, () => 0.999)).toBeLessThan(800);
  });
});

describe('PlanSource spec', () => {
  it.each([
    [60, '* * * * *'],
    [300, '*/5 * * * *'],
    [900, '*/15 * * * *'],
    [3600, '0 * * * *'],
    [21600, '0 */6 * * *'],
    [86400, '0 0 * * *'],
  ])('interval %ds -> cron %s', (s, cron) => expect(intervalToCron(s)).toBe(cron));

  it.each([10, 30, 90, 420, 7 * 3600, 90000, 1.5])('rejects interval %p that cannot tick evenly', (s) => expect(() => intervalToCron(s)).toThrow(SpecError));

  it('applies the same defaults as the CRD', () => {
    const r = resolveSpec({ provider: { url: 'http://p/x' } });
    expect(r).toMatchObject({ timezone: 'UTC', cron: '* * * * *', timeoutSeconds: 30, suspend: false, format: 'fever-xml' });
    expect(r.processor).toEqual({ minReplicas: 0, maxReplicas: 10, targetQueueDepthPerWorker: 20, activationQueueDepth: 1, scaleDownStabilizationSeconds: 300, cooldownSeconds: 300 });
  });

  it('lists every problem at once', () => {
    try {
      resolveSpec({ provider: { url: 'ftp://x', timezone: 'Mars/Olympus' }, processor: { minReplicas: 5, maxReplicas: 2 }, schedule: { cron: '* * *' } });
      throw new Error('expected SpecError');
    } catch (err) {
      expect((err as SpecError).problems).toEqual([
        'spec.provider.url must be an http(s) URL',
        'spec.provider.timezone "Mars/Olympus" is not an IANA time zone',
        'spec.schedule.cron "* * *" is not a cron expression',
        'spec.processor.minReplicas must not exceed maxReplicas',
      ]);
    }
  });
});

describe('config', () => {
  it('fails fast naming each bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x' })).toThrow(ConfigError);
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x' });
    } catch (err) {
      expect((err as Error).message).toMatch(/PORT/);
      expect((err as Error).message).toMatch(/DATABASE_URL: must be a postgres/);
    }
  });
  it('has working defaults', () => {
    expect(loadConfig({})).toMatchObject({ PORT: 8080, PROCESS_BATCH_SIZE: 500, RATE_LIMIT_MAX: 0 });
  });
});
