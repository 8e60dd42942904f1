import { createHash } from 'node:crypto';

// Namespace for plan ids (a UUIDv5 namespace of its own, fixed forever: changing it would change every id).
export const PLAN_NAMESPACE = '1b671a64-40d5-491e-99b0-da01ff1f3341';

function parseUuid(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a UUID: ${uuid}`);
  return Buffer.from(hex, 'hex');
}

/** RFC 9562 UUID version 5 (SHA-1, name-based). */
export function uuidv5(name: string, namespace: string): string {
  const hash = createHash('sha1').update(parseUuid(namespace)).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The id of a plan: stable across fetches, distinct when a provider reuses a plan_id
 * under another base plan. Parts are length-prefixed so no separator can collide.
 */
export function planId(source: string, basePlanId: string, planIdValue: string): string {
  const name = [source, basePlanId, planIdValue].map((p) => `${p.length}:${p}`).join('|');
  return uuidv5(name, PLAN_NAMESPACE);
}
