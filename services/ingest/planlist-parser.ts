// Streaming reader for the provider's planList XML: planList > output > base_plan > plan > zone.
// Memory stays bounded by one <plan> at a time, whatever the document size. DTDs are refused,
// so no entity can expand (billion laughs) and no external resource is ever loaded.
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { normalizePlan, type NormalizedPlan, type RawPlan, type Rejection } from './normalize.js';

export class XmlFormatError extends Error {
  override name = 'XmlFormatError';
}

export interface ParserEvents {
  plan(plan: NormalizedPlan): void;
  reject(rejection: Rejection): void;
}

const MAX_ZONES_PER_PLAN = 100_000;

export class PlanListParser {
  private readonly sax = new SaxesParser({ xmlns: false, position: false });
  private base: { id?: string | undefined; sellMode?: string | undefined; title?: string | undefined } | null = null;
  private plan: RawPlan | null = null;
  private stack: string[] = [];
  private sawRoot = false;
  private closedRoot = false;
  private error: Error | null = null;

  constructor(private readonly source: string, private readonly events: ParserEvents) {
    this.sax.on('doctype', () => this.fail(new XmlFormatError('DOCTYPE declarations are not accepted')));
    this.sax.on('error', (err) => this.fail(new XmlFormatError(err.message)));
    this.sax.on('opentag', (tag) => this.open(tag as SaxesTagPlain));
    this.sax.on('closetag', (tag) => this.close(tag.name));
  }

  /** Feeds a chunk. Throws the first format error; plans already emitted stay valid. */
  write(chunk: string): void {
    if (this.error) throw this.error;
    this.sax.write(chunk);
    if (this.error) throw this.error;
  }

  /** Ends the document; throws if it was truncated or not a planList. */
  end(): void {
    if (this.error) throw this.error;
    if (this.sawRoot && this.stack.length > 0) {
      throw new XmlFormatError(`document ended inside <${this.stack[this.stack.length - 1]}> (truncated)`);
    }
    this.sax.close();
    if (this.error) throw this.error;
    if (!this.sawRoot) throw new XmlFormatError('document has no <planList> root');
    if (!this.closedRoot) throw new XmlFormatError('document ended before </planList> (truncated)');
  }

  private fail(err: Error): void {
    this.error ??= err;
  }

  private open(tag: SaxesTagPlain): void {
    if (this.error) return;
    const a = tag.attributes as Record<string, string>;
    const parent = this.stack[this.stack.length - 1];
    this.stack.push(tag.name);
    if (this.stack.length === 1) {
      if (tag.name !== 'planList') this.fail(new XmlFormatError(`root element is <${tag.name}>, expected <planList>`));
      this.sawRoot = true;
      return;
    }
    switch (tag.name) {
      case 'base_plan':
        this.base = { id: a.base_plan_id, sellMode: a.sell_mode, title: a.title };
        return;
      case 'plan':
        if (parent !== 'base_plan' || !this.base) {
          this.events.reject({ reason: 'structure', detail: '<plan> outside a <base_plan>', planId: a.plan_id });
          return;
        }
        this.plan = {
          basePlanId: this.base.id,
          sellMode: this.base.sellMode,
          title: this.base.title,
          planId: a.plan_id,
          start: a.plan_start_date,
          end: a.plan_end_date,
          zones: [],
        };
        return;
      case 'zone':
        if (parent === 'plan' && this.plan) {
          if (this.plan.zones.length >= MAX_ZONES_PER_PLAN) {
            this.fail(new XmlFormatError(`plan ${a.plan_id ?? ''} has more than ${MAX_ZONES_PER_PLAN} zones`));
            return;
          }
          this.plan.zones.push({ zone_id: a.zone_id, capacity: a.capacity, price: a.price, name: a.name, numbered: a.numbered });
        }
        return;
      default:
        return; // unknown elements are ignored: providers add fields over time
    }
  }

  private close(name: string): void {
    this.stack.pop();
    if (this.error) return;
    if (name === 'plan' && this.plan) {
      const result = normalizePlan(this.source, this.plan);
      this.plan = null;
      if (result.ok) this.events.plan(result.plan);
      else this.events.reject(result.rejection);
    } else if (name === 'base_plan') {
      this.base = null;
    } else if (name === 'planList' && this.stack.length === 0) {
      this.closedRoot = true;
    }
  }
}

/** Convenience for small inputs and tests: parses a whole document. */
export function parsePlanList(source: string, xml: string): { plans: NormalizedPlan[]; rejections: Rejection[] } {
  const plans: NormalizedPlan[] = [];
  const rejections: Rejection[] = [];
  const p = new PlanListParser(source, { plan: (x) => plans.push(x), reject: (r) => rejections.push(r) });
  p.write(xml);
  p.end();
  return { plans, rejections };
}
