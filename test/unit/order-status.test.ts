import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canTransition, eventFor, orderStatuses, statusEvents, terminalStatuses, type OrderStatus, type OrderTransition } from '../../common/order/status';
import { eventPayloads } from '../../common/events';
import { OrderStatus as PrismaOrderStatus } from '../../generated/prisma/enums.ts';

// Compile-time: the module's status type and Prisma's are the same union.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameStatusType: Same<OrderStatus, PrismaOrderStatus> = true;

describe('order status model (pure logic)', () => {
  it('has exactly the statuses of the OrderStatus enum in prisma/schema.prisma', () => {
    const schema = readFileSync(join(__dirname, '..', '..', 'prisma', 'schema.prisma'), 'utf8');
    const body = /^enum OrderStatus \{([^}]*)\}/m.exec(schema)?.[1];
    expect(body).toBeDefined();
    const values = body!.split('\n').map((l) => l.replace(/\/\/.*$/, '').trim()).filter(Boolean);
    expect([...values].sort()).toEqual([...orderStatuses].sort());
  });

  it('has exactly the statuses of the generated Prisma client', () => {
    expect(sameStatusType).toBe(true);
    expect(Object.values(PrismaOrderStatus).sort()).toEqual([...orderStatuses].sort());
  });

  it('lists the statuses in forward order: every allowed move goes forward', () => {
    for (const from of orderStatuses) {
      for (const to of orderStatuses) {
        if (canTransition(from, to)) expect(orderStatuses.indexOf(to)).toBeGreaterThan(orderStatuses.indexOf(from));
      }
    }
  });

  it('calls terminal exactly the statuses nothing leaves', () => {
    expect([...terminalStatuses]).toEqual(['CONFIRMED', 'CANCELLED', 'COMPENSATION_FAILED']);
  });

  it('writes, for each transition, the event of its target status, valid under its schema, without the customer\'s address', () => {
    // The database row the writer passes has the address; no event may copy it (common/events.ts, "Personal data").
    const order = { customerId: 'c', customerEmail: 'buyer@shop.example', currency: 'EUR', totalCents: 1500, lines: [{ sku: 'A', quantity: 1 }] };
    const transitions: OrderTransition[] = [
      { to: 'STOCK_RESERVED' },
      { to: 'AWAITING_PAYMENT_CONFIRMATION', paymentId: 'p', deadline: '2030-01-01T00:00:00.000Z' },
      { to: 'PAYMENT_AUTHORIZED', paymentId: 'p' },
      { to: 'PAYMENT_CAPTURED', paymentId: 'p' },
      { to: 'CONFIRMED' },
      { to: 'CANCELLED', reasonCode: 'CUSTOMER_CANCELLED', reason: 'r', refundedCents: 1500 },
      { to: 'COMPENSATION_FAILED', reasonCode: 'PROCESSING_FAILED', reason: 'r', pendingUndos: ['release-stock'] },
    ];
    for (const t of transitions) {
      const event = eventFor(order, t);
      expect(event.type).toBe(statusEvents[t.to]);
      expect(eventPayloads[event.type].safeParse(event.payload).success).toBe(true);
      expect(JSON.stringify(event.payload)).not.toContain('buyer@shop.example');
    }
  });
});
