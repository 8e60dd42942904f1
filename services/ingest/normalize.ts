// Pure rules that turn one provider <plan> into a stored plan, or into a counted rejection.
import { planId } from '../core/ids.js';

export interface RawZone {
  zone_id?: string;
  capacity?: string;
  price?: string;
  name?: string;
  numbered?: string;
}

export interface RawPlan {
  basePlanId?: string;
  sellMode?: string;
  title?: string;
  planId?: string;
  start?: string;
  end?: string;
  zones: RawZone[];
}

export type SellMode = 'online' | 'offline';

export interface NormalizedPlan {
  id: string;
  basePlanId: string;
  planId: string;
  title: string;
  /** Provider wall-clock time, `YYYY-MM-DDTHH:MM:SS`, no zone. */
  startLocal: string;
  endLocal: string;
  minPrice: number | null;
  maxPrice: number | null;
  sellMode: SellMode;
}

export type RejectReason =
  | 'missing_field'
  | 'invalid_sell_mode'
  | 'invalid_date'
  | 'end_before_start'
  | 'invalid_zone'
  | 'structure';

export interface Rejection {
  reason: RejectReason;
  detail: string;
  basePlanId?: string | undefined;
  planId?: string | undefined;
}

export type NormalizeResult = { ok: true; plan: NormalizedPlan } | { ok: false; rejection: Rejection };

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;
const PRICE = /^\d{1,12}(?:\.\d{1,6})?$/;
const CAPACITY = /^\d{1,9}$/;
const MAX_TITLE = 1000;

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * Validates a provider local date-time and returns it normalized to seconds precision.
 * Impossible calendar dates (2021-09-31, 2021-02-29) return null: rolling them over to the
 * next month would invent an event date the provider never meant.
 */
export function parseLocalDateTime(value: string | undefined): string | null {
  if (value === undefined) return null;
  const m = LOCAL_DATE_TIME.exec(value.trim());
  if (!m) return null;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}`;
}

/** Rounds to cents without binary drift (0.285 -> 0.29). */
function toCents(price: string): number {
  return Math.round(Number(price) * 100 + Number.EPSILON * 100) / 100;
}

/**
 * Price range of the tickets a plan can still sell. Every <zone> element is its own price
 * tier, even when a provider repeats a zone_id; zones with capacity 0 have no ticket to
 * sell and are left out. A plan with no sellable zone gets null prices (the spec allows it).
 */
export function priceRange(zones: RawZone[]): { ok: true; min: number | null; max: number | null } | { ok: false; detail: string } {
  let min: number | null = null;
  let max: number | null = null;
  for (const zone of zones) {
    const price = zone.price?.trim();
    const capacity = zone.capacity?.trim();
    if (price === undefined || !PRICE.test(price)) return { ok: false, detail: `zone ${zone.zone_id ?? '?'}: invalid price ${JSON.stringify(zone.price)}` };
    if (capacity === undefined || !CAPACITY.test(capacity)) return { ok: false, detail: `zone ${zone.zone_id ?? '?'}: invalid capacity ${JSON.stringify(zone.capacity)}` };
    if (Number(capacity) === 0) continue;
    const cents = toCents(price);
    if (min === null || cents < min) min = cents;
    if (max === null || cents > max) max = cents;
  }
  return { ok: true, min, max };
}

export function normalizePlan(source: string, raw: RawPlan): NormalizeResult {
  const reject = (reason: RejectReason, detail: string): NormalizeResult => ({
    ok: false,
    rejection: { reason, detail, basePlanId: raw.basePlanId, planId: raw.planId },
  });
  const basePlanId = raw.basePlanId?.trim();
  const pid = raw.planId?.trim();
  const title = raw.title?.trim();
  if (!basePlanId) return reject('missing_field', 'base_plan_id is missing');
  if (!pid) return reject('missing_field', 'plan_id is missing');
  if (!title) return reject('missing_field', 'title is missing');
  if (title.length > MAX_TITLE) return reject('missing_field', `title longer than ${MAX_TITLE} characters`);
  if (raw.sellMode !== 'online' && raw.sellMode !== 'offline') {
    return reject('invalid_sell_mode', `sell_mode ${JSON.stringify(raw.sellMode)} is neither online nor offline`);
  }
  const startLocal = parseLocalDateTime(raw.start);
  if (!startLocal) return reject('invalid_date', `plan_start_date ${JSON.stringify(raw.start)} is not a valid date-time`);
  const endLocal = parseLocalDateTime(raw.end);
  if (!endLocal) return reject('invalid_date', `plan_end_date ${JSON.stringify(raw.end)} is not a valid date-time`);
  // Same fixed format, so string order is time order.
  if (endLocal < startLocal) return reject('end_before_start', `plan ends (${endLocal}) before it starts (${startLocal})`);
  const prices = priceRange(raw.zones);
  if (!prices.ok) return reject('invalid_zone', prices.detail);
  return {
    ok: true,
    plan: {
      id: planId(source, basePlanId, pid),
      basePlanId,
      planId: pid,
      title,
      startLocal,
      endLocal,
      minPrice: prices.min,
      maxPrice: prices.max,
      sellMode: raw.sellMode,
    },
  };
}

/** Last occurrence wins when one response repeats the same (base_plan, plan): one upsert per id. */
export function dedupeById(plans: NormalizedPlan[]): NormalizedPlan[] {
  const byId = new Map<string, NormalizedPlan>();
  for (const p of plans) byId.set(p.id, p);
  return byId.size === plans.length ? plans : [...byId.values()];
}
