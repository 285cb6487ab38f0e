import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventSchemaVersions, parseEvent, type EventEnvelope } from '../../common/events';
import { OUTBOX_ROW_SELECT, outboxEventCreateInput, outboxInsert, toEnvelope, type NewOutboxEvent, type OutboxRow } from '../../common/outbox';

/** Column of each field of the OutboxEvent model, from prisma/schema.prisma (`@map`, else the field's name). */
function outboxColumnOfField(): Map<string, string> {
  const schema = readFileSync(join(__dirname, '../../prisma/schema.prisma'), 'utf8');
  const model = /model OutboxEvent \{([^}]*)\}/.exec(schema)?.[1] ?? '';
  const fields = model.split('\n').map((line) => /^\s*(\w+)\s+\w+\??(.*)$/.exec(line)).filter((m) => m !== null);
  return new Map(fields.map(([, field, rest]) => [field!, /@map\("(\w+)"\)/.exec(rest!)?.[1] ?? field!]));
}

/** What Postgres gives back for a stored JSON value (jsonb may reorder keys; toEqual does not mind). */
const viaJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

const orderId = randomUUID();
const placed: NewOutboxEvent = {
  id: randomUUID(), orderId, type: 'OrderPlaced', correlationId: 'req-1', causationId: 'req-1',
  payload: { customerId: 'c-1', currency: 'EUR', totalCents: 2500, lines: [{ sku: 'MUG-001', quantity: 2, unitPriceCents: 1250 }], itemCount: 2 },
};
const at = new Date('2026-11-21T10:00:00.123Z');
const expected: EventEnvelope = { ...placed, schemaVersion: eventSchemaVersions.OrderPlaced, occurredAt: at.toISOString() };

describe('outbox row <-> event envelope (pure logic)', () => {
  it('reads a row written by the order activities\' mapping back through the relay\'s mapping as the same envelope', () => {
    const input = outboxEventCreateInput(placed, at);
    const columnOf = outboxColumnOfField();
    const stored = Object.fromEntries(Object.entries(input).map(([field, value]) => [columnOf.get(field) ?? `(no column for ${field})`, value instanceof Date ? value : viaJson(value)]));
    const row = { sequence: '1', ...stored } as unknown as OutboxRow;
    expect(OUTBOX_ROW_SELECT.split(', ').sort()).toEqual(Object.keys(row).sort());
    expect(toEnvelope(row)).toEqual(expected);
    expect(parseEvent(JSON.stringify(toEnvelope(row)))).toMatchObject({ kind: 'known', event: expected });
  });

  it('reads rows the benchmark inserts with SQL back as the envelopes inserted', () => {
    const other = { ...expected, id: randomUUID(), orderId: randomUUID(), causationId: null };
    const { text, values } = outboxInsert([expected, other]);
    const columns = /^INSERT INTO outbox_events \(([^)]*)\) VALUES \(\$1, .*\), \(\$10, .*\)$/.exec(text)?.[1]?.split(', ') ?? [];
    expect(['sequence', ...columns]).toEqual(OUTBOX_ROW_SELECT.split(', '));
    const rows = [0, 1].map((r) => Object.fromEntries(columns.map((column, i) => {
      const value = values[r * columns.length + i];
      return [column, column === 'occurred_at' ? new Date(value as string) : column === 'payload' ? JSON.parse(value as string) : value];
    })) as unknown as OutboxRow);
    expect(rows.map(toEnvelope)).toEqual([expected, other]);
  });

  it('refuses to write a payload that does not match its event type\'s schema', () => {
    expect(() => outboxEventCreateInput({ ...placed, payload: { customerId: 'c-1' } })).toThrow(/currency/);
    expect(() => outboxEventCreateInput({ ...placed, type: 'PaymentCaptured' })).toThrow(/paymentId/);
  });
});
