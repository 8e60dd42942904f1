import { describe, expect, it } from '@jest/globals';
import { dedupeById, normalizePlan, parseLocalDateTime, priceRange, type RawPlan } from '../../services/ingest/normalize.js';
import { planId, uuidv5 } from '../../services/core/ids.js';

const raw = (over: Partial<RawPlan> = {}): RawPlan => ({
  basePlanId: '291',
  sellMode: 'online',
  title: 'Camela en concierto',
  planId: '291',
  start: '2021-06-30T21:00:00',
  end: '2021-06-30T22:00:00',
  zones: [{ zone_id: '40', capacity: '243', price: '20.00' }],
  ...over,
});

describe('parseLocalDateTime', () => {
  it.each([
    ['2021-06-30T21:00:00', '2021-06-30T21:00:00'],
    ['2021-06-30T21:00', '2021-06-30T21:00:00'],
    ['2020-02-29T10:00:00', '2020-02-29T10:00:00'],
    ['2000-02-29T10:00:00', '2000-02-29T10:00:00'],
  ])('accepts %s', (input, expected) => expect(parseLocalDateTime(input)).toBe(expected));

  it.each(['2021-09-31T20:00:00', '2021-02-29T10:00:00', '1900-02-29T10:00:00', '2021-13-01T00:00:00', '2021-00-10T00:00:00', '2021-06-30T24:00:00', '2021-06-30T23:60:00', '2021-06-30', 'yesterday', '', undefined])(
    'rejects %s instead of rolling it over',
    (input) => expect(parseLocalDateTime(input)).toBeNull(),
  );
});

describe('priceRange', () => {
  it('takes min and max over every zone element, repeated zone_ids included', () => {
    expect(priceRange([{ zone_id: '186', capacity: '2', price: '75.00' }, { zone_id: '186', capacity: '16', price: '65.00' }])).toEqual({ ok: true, min: 65, max: 75 });
  });
  it('leaves zero-capacity zones out: they have no ticket to sell', () => {
    expect(priceRange([{ zone_id: '186', capacity: '0', price: '75.00' }, { zone_id: '186', capacity: '14', price: '65.00' }])).toEqual({ ok: true, min: 65, max: 65 });
  });
  it('gives null prices when nothing is sellable', () => {
    expect(priceRange([{ zone_id: '1', capacity: '0', price: '10' }])).toEqual({ ok: true, min: null, max: null });
    expect(priceRange([])).toEqual({ ok: true, min: null, max: null });
  });
  it('rounds to cents', () => {
    expect(priceRange([{ capacity: '1', price: '10.005' }, { capacity: '1', price: '0.285' }])).toEqual({ ok: true, min: 0.29, max: 10.01 });
  });
  it.each(['-4', 'ten', '', '1e5', 'NaN'])('rejects price %p', (price) => {
    expect(priceRange([{ zone_id: '7', capacity: '1', price }]).ok).toBe(false);
  });
  it.each(['-1', '1.5', 'many', undefined])('rejects capacity %p', (capacity) => {
    expect(priceRange([{ zone_id: '7', capacity, price: '1' } as never]).ok).toBe(false);
  });
});

describe('normalizePlan', () => {
  it('normalizes a valid plan with a deterministic id', () => {
    const r = normalizePlan('default/fever', raw());
    expect(r).toEqual({
      ok: true,
      plan: {
        id: planId('default/fever', '291', '291'),
        basePlanId: '291',
        planId: '291',
        title: 'Camela en concierto',
        startLocal: '2021-06-30T21:00:00',
        endLocal: '2021-06-30T22:00:00',
        minPrice: 20,
        maxPrice: 20,
        sellMode: 'online',
      },
    });
  });

  it('gives a reused plan_id under another base plan another id', () => {
    const a = normalizePlan('s', raw({ basePlanId: '322', planId: '1642' }));
    const b = normalizePlan('s', raw({ basePlanId: '1591', planId: '1642' }));
    expect(a.ok && b.ok && a.plan.id !== b.plan.id).toBe(true);
  });

  it.each([
    [{ start: '2021-09-31T20:00:00' }, 'invalid_date'],
    [{ end: '2021-09-31T21:00:00' }, 'invalid_date'],
    [{ end: '2021-06-30T20:00:00' }, 'end_before_start'],
    [{ sellMode: 'sometimes' }, 'invalid_sell_mode'],
    [{ title: '  ' }, 'missing_field'],
    [{ planId: undefined }, 'missing_field'],
    [{ basePlanId: undefined }, 'missing_field'],
    [{ zones: [{ capacity: '1', price: 'free' }] }, 'invalid_zone'],
  ] as const)('rejects %p as %s', (over, reason) => {
    const r = normalizePlan('s', raw(over as Partial<RawPlan>));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.rejection.reason).toBe(reason);
  });
});

describe('ids', () => {
  it('implements UUIDv5 (RFC 9562 test vector)', () => {
    // DNS namespace + "www.example.com"
    expect(uuidv5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });
  it('does not collide when parts contain the separator', () => {
    expect(planId('a|b', 'c', 'd')).not.toBe(planId('a', 'b|c', 'd'));
  });
  it('is stable', () => {
    expect(planId('default/fever', '291', '291')).toBe(planId('default/fever', '291', '291'));
  });
});

describe('dedupeById', () => {
  it('keeps the last occurrence of a repeated plan', () => {
    const a = normalizePlan('s', raw({ title: 'first' }));
    const b = normalizePlan('s', raw({ title: 'second' }));
    if (!a.ok || !b.ok) throw new Error('fixture');
    expect(dedupeById([a.plan, b.plan]).map((p) => p.title)).toEqual(['second']);
  });
});
