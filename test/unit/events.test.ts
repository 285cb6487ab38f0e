import { randomUUID } from 'node:crypto';
import { eventPayloads, eventSchemaVersions, eventTypes, MalformedEventError, parseEvent } from '../../common/events';

function envelope(type: string, payload: unknown, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    id: randomUUID(), type, schemaVersion: 1, occurredAt: new Date().toISOString(), orderId: randomUUID(),
    correlationId: 'req-1', causationId: null, payload, ...extra,
  });
}

describe('event schemas (pure logic)', () => {
  const confirmed = { customerId: 'c1', currency: 'EUR', totalCents: 1200 };

  it('parses a known event and drops fields it does not know', () => {
    const parsed = parseEvent(envelope('OrderConfirmed', { ...confirmed, loyaltyPoints: 12 }, { traceFlags: 1, schemaVersion: 2 }));
    expect(parsed.kind).toBe('known');
    if (parsed.kind !== 'known') return;
    expect(parsed.event.payload).toEqual(confirmed);
    expect(parsed.event).not.toHaveProperty('traceFlags');
  });

  it('returns an unknown event type as such instead of failing', () => {
    const parsed = parseEvent(envelope('GiftWrapped', { colour: 'red' }));
    expect(parsed).toMatchObject({ kind: 'unknown-type', envelope: { type: 'GiftWrapped' } });
  });

  it.each([
    ['not JSON', '{nope'],
    ['missing envelope fields', JSON.stringify({ type: 'OrderConfirmed' })],
    ['payload of the wrong shape', envelope('OrderConfirmed', { ...confirmed, totalCents: 'twelve' })],
  ])('rejects %s as malformed', (_what, raw) => {
    expect(() => parseEvent(raw)).toThrow(MalformedEventError);
  });

  it('has a schema version for every event type', () => {
    expect(Object.keys(eventSchemaVersions).sort()).toEqual(Object.keys(eventPayloads).sort());
    expect(eventTypes.length).toBeGreaterThan(0);
  });
});
