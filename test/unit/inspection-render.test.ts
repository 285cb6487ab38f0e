import { diagnose, type InspectionFacts } from '../../common/inspection/diagnosis';
import { renderInspection } from '../../scripts/ops/inspect';

/** `ops inspect` without --json, on a fake inspection whose NATS, Temporal and payment parts could not be read. */
describe('ops inspect, printed for a person (fake inspection)', () => {
  it('shows each part, says which could not be read and why, and ends with the diagnosis', () => {
    const now = new Date('2026-11-30T12:00:00.000Z');
    const facts: InspectionFacts = {
      orderId: '22222222-2222-4222-8222-222222222222', inspectedAt: now.toISOString(),
      order: {
        status: 'STOCK_RESERVED', clientId: 'shop', customerId: 'c-1', totalCents: 2500, currency: 'EUR', cancelReasonCode: null, pendingUndos: [],
        correlationId: 'checkout-9', createdAt: '2026-11-30T11:50:00.000Z', updatedAt: '2026-11-30T11:50:01.000Z',
      },
      transitions: [{ event: 'OrderPlaced', at: '2026-11-30T11:50:00.000Z' }],
      outbox: [{ eventId: '33333333-3333-4333-8333-333333333333', type: 'OrderPlaced', sequence: '7', occurredAt: '2026-11-30T11:50:00.000Z', publishedAt: null, lagSeconds: 600 }],
      inboxes: [{ consumer: 'analytics', eventId: '33333333-3333-4333-8333-333333333333', type: 'OrderPlaced', handled: false, handledAt: null }],
      emails: [],
      workflow: { unreadable: 'Temporal: 14 UNAVAILABLE: connection refused' },
      stream: { unreadable: 'NATS (events stream): CONNECTION_REFUSED' },
      deadLetters: { unreadable: 'NATS (dead letters): CONNECTION_REFUSED' },
      payment: { unreadable: 'payment: payment GET /payments answered 503' },
      inventory: { status: 'RESERVED', lines: [{ sku: 'MUG-001', quantity: 2 }] },
    };
    const text = renderInspection({ ...facts, diagnosis: diagnose(facts, now) }, 'http://127.0.0.1:8233/namespaces/default/workflows/order-x');
    expect(text).toContain('row:        STOCK_RESERVED, 25.00 EUR, client shop');
    expect(text).toContain('correlation checkout-9');
    expect(text).toContain('workflow:   (not read: Temporal: 14 UNAVAILABLE: connection refused)');
    expect(text).toContain('#7 OrderPlaced');
    expect(text).toContain('NOT published (600 s)');
    expect(text).toContain('analytics  OrderPlaced                  NOT handled');
    expect(text).toContain('payment:    (not read: payment: payment GET /payments answered 503)');
    expect(text).toContain('inventory:  RESERVED 2×MUG-001');
    expect(text.split('\n').at(-1)).toBe('diagnosis:  relay down: 1 event unpublished for 10 min');
  });
});
