import { createHash } from 'node:crypto';

/**
 * Order ids for keyed requests. An order placed with an Idempotency-Key gets an id derived from
 * (client, key), so every retry of that request names the same order, and so the same workflow
 * (`order-<id>`): a start that went through but whose answer was lost is then found again
 * ("already started") instead of making a second order. Without a key the id is random.
 */

/** Our namespace for name-based UUIDs (a fixed random UUID; never change it: ids already given out derive from it). */
const ORDER_ID_NAMESPACE = '3f0b5a36-7d7c-4b8e-9a51-0c2e3b7d9f14';

/** A name-based UUID, version 5 (SHA-1), as RFC 9562 section 5.5 defines it. */
export function uuidV5(namespace: string, name: string): string {
  const bytes = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50; // version 5
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The order id for a request with Idempotency-Key `key` from client `clientId`. A newline cannot
 * occur in either (both are visible ASCII), so different pairs never make the same name.
 */
export function orderIdFor(clientId: string, key: string): string {
  return uuidV5(ORDER_ID_NAMESPACE, `order\n${clientId}\n${key}`);
}

/** The id of the cancel update a keyed cancel request sends: a retry joins the same update instead of sending another. */
export function cancelUpdateIdFor(clientId: string, key: string): string {
  return `cancel-${uuidV5(ORDER_ID_NAMESPACE, `cancel\n${clientId}\n${key}`)}`;
}
