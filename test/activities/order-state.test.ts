import { randomUUID } from 'node:crypto';
import { context, propagation, trace } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { MockActivityEnvironment } from '@temporalio/testing';
import { eventSchemaVersions } from '../../common/events';
import { INVALID_TRANSITION_FAILURE } from '../../common/failures';
import { LEGACY_CLIENT_ID } from '../../common/order/workflow-contract';
import { storeOrderSecrets } from '../../common/order-vault';
import { startPeers, type Peers } from '../harness/system';
import type { OrderActivities } from '../../activities';
import { peerActivities } from '../harness/order-worker';

/**
 * The order-state activities' rows against real Postgres: every column they write, the row lock
 * between concurrent writers, and the trace context the relay continues.
 */
describe('order state activities', () => {
  let peers: Peers;
  let acts: OrderActivities;
  const env = new MockActivityEnvironment();

  beforeAll(async () => {
    peers = await startPeers();
    acts = peerActivities(peers);
  });
  afterAll(() => peers?.stop());

  async function newOrder() {
    const orderId = randomUUID();
    await env.run(acts.recordOrderPlaced, {
      eventId: randomUUID(),
      order: { orderId, customerId: 'c-9', customerEmail: 'c9@shop.example', currency: 'EUR', lines: [{ sku: 'A', quantity: 1, unitPriceCents: 1000 }], totalCents: 1000, correlationId: 'corr-1' },
    });
    return orderId;
  }

  async function failureOf(p: Promise<unknown>): Promise<unknown> {
    try {
      await p;
    } catch (err) {
      return err;
    }
    throw new Error('expected the activity to fail');
  }

  it('records a failed order: reason, undos still to do, its event as the outbox row, and forgets its secrets', async () => {
    const orderId = randomUUID();
    await storeOrderSecrets(peers.pool, { orderId, clientId: 'test-shop', customerId: 'c-f', customerEmail: 'f@shop.example', paymentToken: 'tok_visa' });
    const lines = [{ sku: 'B', quantity: 2, unitPriceCents: 300 }, { sku: 'A', quantity: 1, unitPriceCents: 400 }];
    await env.run(acts.recordOrderPlaced, { eventId: randomUUID(), order: { orderId, customerId: 'c-f', currency: 'EUR', lines, totalCents: 1000, correlationId: 'corr-f' } });
    const reserved = randomUUID();
    await env.run(acts.recordOrderTransition, { orderId, eventId: reserved, causationId: 'c1', transition: { to: 'STOCK_RESERVED' as const } });
    const failed = randomUUID();
    const transition = { to: 'COMPENSATION_FAILED' as const, reasonCode: 'PAYMENT_DECLINED' as const, reason: 'declined', pendingUndos: ['release-stock', 'void-payment'] };
    await env.run(acts.recordOrderTransition, { orderId, eventId: failed, causationId: 'c2', transition });
    const order = await peers.db.order.findUniqueOrThrow({ where: { id: orderId }, include: { lines: true } });
    expect(order).toMatchObject({ status: 'COMPENSATION_FAILED', clientId: LEGACY_CLIENT_ID, customerEmail: 'f@shop.example', cancelReasonCode: 'PAYMENT_DECLINED', cancelReason: 'declined', pendingUndos: ['release-stock', 'void-payment'] });
    expect(order.lines.map((l) => [l.sku, l.quantity, l.unitPriceCents]).sort()).toEqual([['A', 1, 400], ['B', 2, 300]]);
    expect(order.updatedAt.getTime()).toBeGreaterThanOrEqual(order.createdAt.getTime());
    const events = await peers.db.outboxEvent.findMany({ where: { aggregateId: orderId }, orderBy: { sequence: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(['OrderPlaced', 'StockReserved', 'OrderCompensationFailed']);
    expect(events[0]!.payload).toEqual({ customerId: 'c-f', currency: 'EUR', totalCents: 1000, lines, itemCount: 3 });
    expect(events[1]).toMatchObject({ id: reserved, causationId: 'c1', correlationId: 'corr-f', schemaVersion: eventSchemaVersions.StockReserved, publishedAt: null, traceContext: null });
    expect((events[1]!.payload as { lines: unknown[] }).lines).toEqual(expect.arrayContaining([{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 2 }]));
    expect(events[2]).toMatchObject({ id: failed, causationId: 'c2', payload: { reasonCode: 'PAYMENT_DECLINED', reason: 'declined', pendingUndos: ['release-stock', 'void-payment'] } });
    expect(await peers.db.orderVault.findUnique({ where: { orderId } })).toBeNull();
    // A retry after the end changes nothing (its event is found first).
    await env.run(acts.recordOrderTransition, { orderId, eventId: failed, causationId: 'c2', transition });
    expect(await peers.db.outboxEvent.count({ where: { aggregateId: orderId } })).toBe(3);
  });

  it('lets one of two concurrent writers through: the same attempt twice writes once, two different moves from one status one', async () => {
    const orderId = await newOrder();
    const request = { orderId, eventId: randomUUID(), causationId: 'c', transition: { to: 'STOCK_RESERVED' as const } };
    await expect(Promise.all([env.run(acts.recordOrderTransition, request), env.run(acts.recordOrderTransition, request)])).resolves.toEqual([request.eventId, request.eventId]);
    const cancel = (reason: string) => env.run(acts.recordOrderTransition, { orderId, eventId: randomUUID(), causationId: 'c', transition: { to: 'CANCELLED' as const, reasonCode: 'OPERATOR_CANCELLED' as const, reason } });
    const outcomes = await Promise.allSettled([cancel('first'), cancel('second')]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({ reason: { type: INVALID_TRANSITION_FAILURE, nonRetryable: true } });
    const events = await peers.db.outboxEvent.findMany({ where: { aggregateId: orderId }, orderBy: { sequence: 'asc' } });
    expect(events.map((e) => e.type)).toEqual(['OrderPlaced', 'StockReserved', 'OrderCancelled']);
  });

  it('fails for good on an order that does not exist', async () => {
    const err = await failureOf(env.run(acts.recordOrderTransition, { orderId: randomUUID(), eventId: randomUUID(), causationId: 'x', transition: { to: 'STOCK_RESERVED' as const } }));
    expect(err).toMatchObject({ type: INVALID_TRANSITION_FAILURE, nonRetryable: true });
  });

  it('stores the active trace context with the event, for the relay to continue the trace', async () => {
    const provider = new NodeTracerProvider();
    provider.register();
    try {
      const orderId = randomUUID();
      const span = trace.getTracer('activities-test').startSpan('record');
      const eventId = randomUUID();
      await context.with(trace.setSpan(context.active(), span), () => env.run(acts.recordOrderPlaced, {
        eventId, order: { orderId, customerId: 'c-t', customerEmail: 't@shop.example', currency: 'EUR', lines: [{ sku: 'A', quantity: 1, unitPriceCents: 100 }], totalCents: 100, correlationId: 'corr-t' },
      }));
      span.end();
      const row = await peers.db.outboxEvent.findUniqueOrThrow({ where: { id: eventId } });
      expect(row.traceContext).toEqual({ traceparent: expect.stringContaining(span.spanContext().traceId) });
    } finally {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    }
  });
});
