import { describe, expect, it } from '@jest/globals';
import { parsePlanList, PlanListParser, XmlFormatError } from '../../services/ingest/planlist-parser.js';
import { entityBomb, invalidValuesDocument, syntheticPlanList } from '../../services/provider-sim/synthetic.js';
import { fixture } from '../helpers/fixtures.js';

describe('planList parser on the provider samples', () => {
  it('reads response_1: reused plan_id, repeated zone_ids', () => {
    const { plans, rejections } = parsePlanList('default/fever', fixture('response_1.xml'));
    expect(rejections).toEqual([]);
    expect(plans.map((p) => [p.basePlanId, p.planId, p.title, p.minPrice, p.maxPrice, p.sellMode])).toEqual([
      ['291', '291', 'Camela en concierto', 15, 30, 'online'],
      ['322', '1642', 'Pantomima Full', 55, 55, 'online'],
      ['322', '1643', 'Pantomima Full', 55, 55, 'online'],
      ['1591', '1642', 'Los Morancos', 65, 75, 'online'],
    ]);
    // plan_id 1642 appears under two base plans: two distinct events
    expect(new Set(plans.map((p) => p.id)).size).toBe(4);
  });

  it('reads response_2: zero-capacity zone, impossible date rejected and counted', () => {
    const { plans, rejections } = parsePlanList('default/fever', fixture('response_2.xml'));
    expect(plans.map((p) => [p.basePlanId, p.planId, p.endLocal, p.minPrice, p.maxPrice])).toEqual([
      ['291', '291', '2021-06-30T22:00:00', 15, 30],
      ['1591', '1642', '2021-07-31T21:20:00', 65, 65],
    ]);
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toMatchObject({ reason: 'invalid_date', basePlanId: '444', planId: '1642' });
  });

  it('gives the same ids for the same plan in both responses', () => {
    const a = parsePlanList('default/fever', fixture('response_1.xml')).plans.find((p) => p.basePlanId === '1591')!;
    const b = parsePlanList('default/fever', fixture('response_2.xml')).plans.find((p) => p.basePlanId === '1591')!;
    expect(a.id).toBe(b.id);
  });

  it('is independent of chunk boundaries', () => {
    const xml = fixture('response_1.xml');
    const whole = parsePlanList('s', xml).plans;
    for (const size of [1, 7, 64]) {
      const plans: unknown[] = [];
      const p = new PlanListParser('s', { plan: (x) => plans.push(x), reject: () => {} });
      for (let i = 0; i < xml.length; i += size) p.write(xml.slice(i, i + size));
      p.end();
      expect(plans).toEqual(whole);
    }
  });

  it('counts invalid values and keeps the valid neighbour', () => {
    const { plans, rejections } = parsePlanList('s', invalidValuesDocument());
    expect(plans.map((p) => p.title)).toEqual(['Valid neighbour']);
    expect(rejections.map((r) => r.reason).sort()).toEqual(['end_before_start', 'invalid_date', 'invalid_date', 'invalid_sell_mode', 'invalid_zone', 'missing_field']);
  });
});

describe('planList parser on hostile input', () => {
  it('refuses DTDs, so an entity bomb never expands', () => {
    expect(() => parsePlanList('s', entityBomb())).toThrow(XmlFormatError);
  });
  it('reports truncation, keeping the plans completed before it', () => {
    const xml = fixture('response_1.xml');
    const cut = xml.slice(0, xml.indexOf('<base_plan base_plan_id="1591"'));
    const plans: unknown[] = [];
    const p = new PlanListParser('s', { plan: (x) => plans.push(x), reject: () => {} });
    p.write(cut);
    expect(() => p.end()).toThrow(/truncated/);
    expect(plans).toHaveLength(3);
  });
  it('rejects malformed XML and a wrong root', () => {
    expect(() => parsePlanList('s', '<planList><output><base_plan></output></planList>')).toThrow(XmlFormatError);
    expect(() => parsePlanList('s', '<events/>')).toThrow(/expected <planList>/);
    expect(() => parsePlanList('s', '')).toThrow(XmlFormatError);
  });
  it('counts a <plan> outside a <base_plan> as a structure rejection', () => {
    const { rejections } = parsePlanList('s', '<planList><output><plan plan_id="1"/></output></planList>');
    expect(rejections).toEqual([expect.objectContaining({ reason: 'structure' })]);
  });
  it('streams a synthetic document plan by plan', () => {
    let n = 0;
    const p = new PlanListParser('s', { plan: () => n++, reject: () => {} });
    for (const part of syntheticPlanList({ plans: 1000, zonesPerPlan: 5 })) p.write(part);
    p.end();
    expect(n).toBe(1000);
  });
});
