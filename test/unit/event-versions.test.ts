import { randomUUID } from 'node:crypto';
import {
  eventSchemaVersions, eventTypes, legacyEventVersions, MalformedEventError, parseEvent,
  type EventType,
} from '../../common/events';
import { consumerSubscriptions } from '../../workers/subscriptions';

function envelope(type: string, schemaVersion: number, payload: unknown, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    id: randomUUID(), type, schemaVersion, occurredAt: new Date().toISOString(), orderId: randomUUID(),
    correlationId: 'req-1', causationId: null, payload, ...extra,
  });
}

function parseKnown(raw: string) {
  const parsed = parseEvent(raw);
  if (parsed.kind !== 'known') throw new Error(`expected a known event, got ${parsed.kind}`);
  return parsed.event;
}

const lines = [
  { sku: 'SKU-1', quantity: 2, unitPriceCents: 500 },
  { sku: 'SKU-2', quantity: 3, unitPriceCents: 100 },
];
const orderPlacedV1 = { customerId: 'c1', currency: 'EUR', totalCents: 1300, lines };
const orderPlacedV2 = { ...orderPlacedV1, itemCount: 5 };

describe('event schema versions (pure logic)', () => {
  describe('OrderPlaced v1 -> v2 upcasting', () => {
    it('upcasts a v1 payload to the current shape, deriving itemCount from the lines', () => {
      const event = parseKnown(envelope('OrderPlaced', 1, orderPlacedV1));
      expect(event.type).toBe('OrderPlaced');
      expect(event.schemaVersion).toBe(2);
      expect(event.schemaVersion).toBe(eventSchemaVersions.OrderPlaced);
      expect(event.payload).toEqual({ ...orderPlacedV1, itemCount: 5 });
    });

    it('derives itemCount 0 for a v1 order with no lines', () => {
      const event = parseKnown(envelope('OrderPlaced', 1, { ...orderPlacedV1, lines: [] }));
      expect(event.payload).toEqual({ ...orderPlacedV1, lines: [], itemCount: 0 });
    });

    it('ignores an itemCount sent on a v1 event and derives it from the lines', () => {
      const event = parseKnown(envelope('OrderPlaced', 1, { ...orderPlacedV1, itemCount: 99 }));
      expect(event.payload).toMatchObject({ itemCount: 5 });
    });

    it('parses a v2 event unchanged', () => {
      const raw = envelope('OrderPlaced', 2, orderPlacedV2);
      const event = parseKnown(raw);
      const { payload: _payload, ...rest } = JSON.parse(raw) as Record<string, unknown>;
      expect(event).toEqual({ ...rest, payload: orderPlacedV2 });
      expect(event.schemaVersion).toBe(2);
    });

    it('rejects a v2 event without itemCount (no upcast from the current version)', () => {
      expect(() => parseEvent(envelope('OrderPlaced', 2, orderPlacedV1))).toThrow(MalformedEventError);
      expect(() => parseEvent(envelope('OrderPlaced', 2, orderPlacedV1))).toThrow(/OrderPlaced v2 payload invalid: itemCount/);
    });

    it('rejects a v1 payload that is invalid under the v1 schema, naming v1', () => {
      const bad = { ...orderPlacedV1, lines: [{ sku: 'SKU-1', quantity: 0, unitPriceCents: 500 }] };
      expect(() => parseEvent(envelope('OrderPlaced', 1, bad))).toThrow(MalformedEventError);
      expect(() => parseEvent(envelope('OrderPlaced', 1, bad))).toThrow(/OrderPlaced v1 payload invalid: lines\.0\.quantity/);
    });

    it('rejects a v1 payload missing a v1 field, naming v1', () => {
      const { customerId: _c, ...bad } = orderPlacedV1;
      expect(() => parseEvent(envelope('OrderPlaced', 1, bad))).toThrow(/v1 payload invalid: customerId/);
    });
  });

  describe('OrderConfirmed and OrderCancelled v1 -> v2: the customer\'s address leaves the events', () => {
    const confirmedV2 = { customerId: 'c1', currency: 'EUR', totalCents: 1300 };
    const cancelledV2 = { ...confirmedV2, reasonCode: 'PAYMENT_DECLINED', reason: 'declined', refundedCents: 1300 };

    it.each([
      ['OrderConfirmed', confirmedV2],
      ['OrderCancelled', cancelledV2],
    ] as const)('reads a v1 %s and drops its customerEmail', (type, v2) => {
      const event = parseKnown(envelope(type, 1, { ...v2, customerEmail: 'jane@shop.example' }));
      expect(event.schemaVersion).toBe(2);
      expect(event.payload).toEqual(v2);
      expect(JSON.stringify(event)).not.toContain('jane@shop.example');
    });

    it.each([
      ['OrderConfirmed', confirmedV2],
      ['OrderCancelled', cancelledV2],
    ] as const)('reads a v2 %s without any address, and drops one sent anyway', (type, v2) => {
      expect(parseKnown(envelope(type, 2, v2)).payload).toEqual(v2);
      expect(parseKnown(envelope(type, 2, { ...v2, customerEmail: 'jane@shop.example' })).payload).toEqual(v2);
    });

    it('still holds v1 to its own schema: a v1 without customerEmail is malformed', () => {
      expect(() => parseEvent(envelope('OrderConfirmed', 1, confirmedV2))).toThrow(/OrderConfirmed v1 payload invalid: customerEmail/);
    });

    it('writes v2 from the status model: no customerEmail in either event', () => {
      expect(eventSchemaVersions.OrderConfirmed).toBe(2);
      expect(eventSchemaVersions.OrderCancelled).toBe(2);
    });
  });

  describe('newer and unknown things', () => {
    it('reads a version newer than ours with the current schema, dropping the field it does not know', () => {
      const event = parseKnown(envelope('OrderPlaced', 3, { ...orderPlacedV2, giftWrap: true }));
      expect(event.payload).toEqual(orderPlacedV2);
      expect(event.payload).not.toHaveProperty('giftWrap');
      // The version on the event is kept as sent (max of sent and current), not lowered to ours.
      expect(event.schemaVersion).toBe(3);
    });

    it('rejects a newer version that lacks a field the current schema requires', () => {
      expect(() => parseEvent(envelope('OrderPlaced', 3, orderPlacedV1))).toThrow(/OrderPlaced v3 payload invalid: itemCount/);
    });

    it('drops unknown fields in both the payload and the envelope', () => {
      const event = parseKnown(envelope('OrderPlaced', 2, { ...orderPlacedV2, loyaltyTier: 'gold' }, { traceFlags: 1, region: 'eu' }));
      expect(event.payload).toEqual(orderPlacedV2);
      expect(event).not.toHaveProperty('traceFlags');
      expect(event).not.toHaveProperty('region');
      expect(Object.keys(event).sort()).toEqual(['causationId', 'correlationId', 'id', 'occurredAt', 'orderId', 'payload', 'schemaVersion', 'type']);
    });

    it('drops unknown fields inside nested payload objects too', () => {
      const event = parseKnown(envelope('OrderPlaced', 1, { ...orderPlacedV1, lines: [{ ...lines[0], colour: 'red' }] }));
      expect(event.payload).toEqual({ ...orderPlacedV1, lines: [lines[0]], itemCount: 2 });
    });

    it('returns an unknown type as unknown-type, whatever its version and payload', () => {
      const parsed = parseEvent(envelope('GiftWrapped', 7, { anything: ['goes'] }));
      expect(parsed.kind).toBe('unknown-type');
      if (parsed.kind !== 'unknown-type') return;
      expect(parsed.envelope).toMatchObject({ type: 'GiftWrapped', schemaVersion: 7, payload: { anything: ['goes'] } });
    });

    it('does not treat Object.prototype names as known types', () => {
      expect(parseEvent(envelope('toString', 1, {})).kind).toBe('unknown-type');
      expect(parseEvent(envelope('constructor', 1, {})).kind).toBe('unknown-type');
    });
  });

  describe('version numbers on the envelope', () => {
    it('reads a type at its current version 1 without any legacy schema', () => {
      const event = parseKnown(envelope('StockReserved', 1, { lines: [{ sku: 'SKU-1', quantity: 2 }] }));
      expect(event.schemaVersion).toBe(1);
      expect(event.payload).toEqual({ lines: [{ sku: 'SKU-1', quantity: 2 }] });
    });

    it.each([0, -1, 1.5])('rejects schemaVersion %p in the envelope as malformed', (version) => {
      expect(() => parseEvent(envelope('StockReserved', version, { lines: [] }))).toThrow(MalformedEventError);
      expect(() => parseEvent(envelope('StockReserved', version, { lines: [] }))).toThrow(/envelope invalid: schemaVersion/);
    });
  });

  describe('registry consistency', () => {
    it('keeps every legacy version below the current version of its type', () => {
      for (const [type, versions] of Object.entries(legacyEventVersions)) {
        expect(eventTypes).toContain(type);
        for (const v of Object.keys(versions ?? {})) {
          expect(Number.isInteger(Number(v))).toBe(true);
          expect(Number(v)).toBeGreaterThanOrEqual(1);
          expect(Number(v)).toBeLessThan(eventSchemaVersions[type as EventType]);
        }
      }
    });

    it('has a legacy schema for every version between 1 and the current one, so every older version is readable', () => {
      for (const type of eventTypes) {
        for (let v = 1; v < eventSchemaVersions[type]; v += 1) {
          expect([type, v, legacyEventVersions[type]?.[v] !== undefined]).toEqual([type, v, true]);
        }
      }
    });

    it('has every consumer subscribe only to known event types', () => {
      const names = consumerSubscriptions.map((c) => c.name);
      expect(names.length).toBeGreaterThan(0);
      expect(new Set(names).size).toBe(names.length);
      for (const { name, handles } of consumerSubscriptions) {
        expect(handles.size).toBeGreaterThan(0);
        for (const type of handles) expect([name, type, eventTypes.includes(type as EventType)]).toEqual([name, type, true]);
      }
    });
  });
});
