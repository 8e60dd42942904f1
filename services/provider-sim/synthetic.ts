// Synthetic planList documents, generated as a stream so a 50k-plan payload never sits in memory.
export interface SyntheticOptions {
  plans: number;
  zonesPerPlan: number;
  /** Plans per base plan. */
  plansPerBase?: number;
  /** Changes prices/titles so two seeds give two different snapshots of the same plan ids. */
  seed?: number;
  /** Every Nth base plan is offline (0 = none). */
  offlineEvery?: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

export function* syntheticPlanList(opts: SyntheticOptions): Generator<string> {
  const perBase = opts.plansPerBase ?? 4;
  const seed = opts.seed ?? 0;
  yield '<?xml version="1.0" encoding="UTF-8"?>\n<planList version="1.0">\n<output>\n';
  for (let p = 0, base = 0; p < opts.plans; base++) {
    const offline = opts.offlineEvery ? base % opts.offlineEvery === opts.offlineEvery - 1 : false;
    const parts: string[] = [`<base_plan base_plan_id="${100000 + base}" sell_mode="${offline ? 'offline' : 'online'}" title="Synthetic event ${base} v${seed}">\n`];
    for (let i = 0; i < perBase && p < opts.plans; i++, p++) {
      const day = (p % 28) + 1;
      const month = (Math.floor(p / 28) % 12) + 1;
      const date = `2021-${pad(month)}-${pad(day)}`;
      const hour = 10 + (p % 10);
      parts.push(
        `<plan plan_start_date="${date}T${pad(hour)}:00:00" plan_end_date="${date}T${pad(hour + 2)}:30:00" plan_id="${p}" sell_from="2020-01-01T00:00:00" sell_to="${date}T09:00:00" sold_out="false">\n`,
      );
      for (let z = 0; z < opts.zonesPerPlan; z++) {
        const price = 5 + ((p * 7 + z * 3 + seed) % 200) + (z % 4) * 0.25;
        parts.push(`<zone zone_id="${z}" capacity="${(z * 13 + p) % 50}" price="${price.toFixed(2)}" name="Zone ${z}" numbered="${z % 2 === 0}"/>\n`);
      }
      parts.push('</plan>\n');
    }
    parts.push('</base_plan>\n');
    yield parts.join('');
  }
  yield '</output>\n</planList>\n';
}

/** The classic billion-laughs document: 10 levels of 10x entity expansion. */
export function entityBomb(): string {
  const lines = ['<?xml version="1.0"?>', '<!DOCTYPE planList [', '<!ENTITY lol "lol">'];
  for (let i = 1; i <= 9; i++) {
    const prev = i === 1 ? 'lol' : `lol${i - 1}`;
    lines.push(`<!ENTITY lol${i} "${Array(10).fill(`&${prev};`).join('')}">`);
  }
  lines.push(']>', '<planList><output><base_plan base_plan_id="1" sell_mode="online" title="&lol9;"></base_plan></output></planList>');
  return lines.join('\n');
}

/** A document mixing valid plans with every kind of invalid value the provider has been seen to send. */
export function invalidValuesDocument(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<planList version="1.0"><output>
  <base_plan base_plan_id="9001" sell_mode="online" title="Valid neighbour">
    <plan plan_start_date="2021-05-01T20:00:00" plan_end_date="2021-05-01T22:00:00" plan_id="1" sell_from="2021-01-01T00:00:00" sell_to="2021-05-01T19:00:00" sold_out="false">
      <zone zone_id="1" capacity="10" price="12.50" name="A" numbered="true"/>
    </plan>
    <plan plan_start_date="2021-02-30T20:00:00" plan_end_date="2021-02-30T22:00:00" plan_id="2" sell_from="2021-01-01T00:00:00" sell_to="2021-02-01T19:00:00" sold_out="false">
      <zone zone_id="1" capacity="10" price="12.50" name="A" numbered="true"/>
    </plan>
    <plan plan_start_date="2021-05-02T20:00:00" plan_end_date="2021-05-02T22:00:00" plan_id="3" sell_from="2021-01-01T00:00:00" sell_to="2021-05-01T19:00:00" sold_out="false">
      <zone zone_id="1" capacity="10" price="-4" name="A" numbered="true"/>
    </plan>
    <plan plan_start_date="2021-05-03T20:00:00" plan_end_date="2021-05-03T18:00:00" plan_id="4" sell_from="2021-01-01T00:00:00" sell_to="2021-05-01T19:00:00" sold_out="false">
      <zone zone_id="1" capacity="ten" price="10.00" name="A" numbered="true"/>
    </plan>
    <plan plan_start_date="yesterday" plan_end_date="2021-05-03T18:00:00" plan_id="5" sell_from="2021-01-01T00:00:00" sell_to="2021-05-01T19:00:00" sold_out="false"/>
  </base_plan>
  <base_plan base_plan_id="9002" sell_mode="sometimes" title="Bad sell mode">
    <plan plan_start_date="2021-05-04T20:00:00" plan_end_date="2021-05-04T22:00:00" plan_id="1" sell_from="2021-01-01T00:00:00" sell_to="2021-05-01T19:00:00" sold_out="false"/>
  </base_plan>
  <base_plan base_plan_id="9003" sell_mode="online">
    <plan plan_start_date="2021-05-05T20:00:00" plan_end_date="2021-05-05T22:00:00" plan_id="1" sell_from="2021-01-01T00:00:00" sell_to="2021-05-01T19:00:00" sold_out="false"/>
  </base_plan>
</output></planList>
`;
}
