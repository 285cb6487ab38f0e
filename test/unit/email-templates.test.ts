import { randomUUID } from 'node:crypto';
import type { DomainEvent } from '../../common/events';
import { emailFor, messageIdFor } from '../../workers/email-templates';

describe('customer emails (pure logic)', () => {
  const base = { id: randomUUID(), schemaVersion: 1, occurredAt: new Date().toISOString(), orderId: randomUUID(), correlationId: 'c', causationId: null };
  const cancelled = (extra: Record<string, unknown>) => ({
    ...base, type: 'OrderCancelled',
    payload: { customerId: 'c1', customerEmail: 'a@b.example', currency: 'EUR', totalCents: 2500, reasonCode: 'CUSTOMER_CANCELLED', reason: 'Cancelled at the customer\'s request', ...extra },
  }) as DomainEvent;

  it('tells the customer about a refund when money was captured', () => {
    expect(emailFor(cancelled({ refundedCents: 2500 }))!.text).toMatch(/refunded 25\.00 EUR/);
  });

  it('says nothing was charged when nothing was captured', () => {
    expect(emailFor(cancelled({}))!.text).toMatch(/not been charged/);
  });

  it('sends nothing for internal events and gives each event one stable Message-ID', () => {
    expect(emailFor({ ...base, type: 'StockReserved', payload: { lines: [] } } as DomainEvent)).toBeNull();
    expect(messageIdFor(base.id)).toBe(messageIdFor(base.id));
  });
});
