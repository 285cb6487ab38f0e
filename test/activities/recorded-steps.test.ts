import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { OrderActivities } from '../../activities';
import { peerActivities } from '../harness/order-worker';
import { BusinessFailure, INVALID_TRANSITION_FAILURE, STEP_RECORD_NOT_WRITTEN_FAILURE } from '../../common/failures';
import { setPeerFaults, startPeers, type Peers } from '../harness/system';

/** The forward steps that record their own move (activities/recorded-steps.ts), against real Postgres and real peers. */
type Authorized = Awaited<ReturnType<OrderActivities['authorizePaymentRecorded']>>;

describe('recorded steps', () => {
  let peers: Peers;
  let acts: OrderActivities;
  const env = new MockActivityEnvironment();

  beforeAll(async () => {
    peers = await startPeers();
    acts = peerActivities(peers);
  });
  afterAll(() => peers?.stop());

  async function placedOrder(sku: string, quantity: number) {
    const orderId = randomUUID();
    const placed = randomUUID();
    await env.run(acts.recordOrderPlaced, {
      eventId: placed,
      order: { orderId, customerId: 'c-1', customerEmail: 'c1@shop.example', currency: 'EUR', lines: [{ sku, quantity, unitPriceCents: 500 }], totalCents: 500 * quantity, correlationId: 'corr-r' },
    });
    return { orderId, placed, lines: [{ sku, quantity }] };
  }

  async function product(stock: number): Promise<string> {
    const sku = `REC-${randomUUID().slice(0, 8)}`;
    await peers.inventory.upsertProduct(sku, { name: 'x', priceCents: 500, stock });
    return sku;
  }

  const eventsOf = async (orderId: string) =>
    (await peers.db.outboxEvent.findMany({ where: { aggregateId: orderId }, orderBy: { sequence: 'asc' } })).map((e) => ({ id: e.id, type: e.type, causationId: e.causationId }));
  const statusOf = async (orderId: string) => (await peers.db.order.findUniqueOrThrow({ where: { id: orderId } })).status;

  it('reserves and records STOCK_RESERVED under the saga\'s event id; a retry changes nothing', async () => {
    const sku = await product(10);
    const { orderId, placed, lines } = await placedOrder(sku, 3);
    const eventId = randomUUID();
    const request = { step: { orderId, lines }, record: { orderId, eventId, causationId: placed } };
    await expect(env.run(acts.reserveStockRecorded, request)).resolves.toBe(eventId);
    await expect(env.run(acts.reserveStockRecorded, request)).resolves.toBe(eventId);
    expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 10, reserved: 3 });
    expect(await statusOf(orderId)).toBe('STOCK_RESERVED');
    expect((await eventsOf(orderId)).slice(1)).toEqual([{ id: eventId, type: 'StockReserved', causationId: placed }]);
  });

  it('lets a business outcome of the step through unchanged, and records nothing', async () => {
    const sku = await product(1);
    const { orderId, placed, lines } = await placedOrder(sku, 2);
    const request = { step: { orderId, lines }, record: { orderId, eventId: randomUUID(), causationId: placed } };
    await expect(env.run(acts.reserveStockRecorded, request)).rejects.toMatchObject({ type: BusinessFailure.OutOfStock, nonRetryable: true });
    expect(await statusOf(orderId)).toBe('PENDING');
    expect(await eventsOf(orderId)).toHaveLength(1);
  });

  it('authorizes and records PAYMENT_AUTHORIZED with the payment id; a payment the customer must confirm is not recorded', async () => {
    const sku = await product(10);
    const plain = await placedOrder(sku, 1);
    await env.run(acts.recordOrderTransition, { orderId: plain.orderId, eventId: randomUUID(), causationId: plain.placed, transition: { to: 'STOCK_RESERVED' as const } });
    const eventId = randomUUID();
    const authorized = await env.run(acts.authorizePaymentRecorded, {
      step: { orderId: plain.orderId, amountCents: 500, currency: 'EUR', paymentToken: 'tok_visa' }, record: { orderId: plain.orderId, eventId, causationId: 'c' },
    }) as Authorized;
    expect(authorized).toEqual({ payment: { status: 'AUTHORIZED', paymentId: expect.any(String) }, eventId });
    expect(await statusOf(plain.orderId)).toBe('PAYMENT_AUTHORIZED');
    const written = await peers.db.outboxEvent.findUniqueOrThrow({ where: { id: eventId } });
    expect(written.payload).toMatchObject({ paymentId: authorized.payment.paymentId, amountCents: 500 });

    const threeDs = await placedOrder(sku, 1);
    await env.run(acts.recordOrderTransition, { orderId: threeDs.orderId, eventId: randomUUID(), causationId: threeDs.placed, transition: { to: 'STOCK_RESERVED' as const } });
    const waiting = await env.run(acts.authorizePaymentRecorded, {
      step: { orderId: threeDs.orderId, amountCents: 500, currency: 'EUR', paymentToken: 'tok_threeDSecure' }, record: { orderId: threeDs.orderId, eventId: randomUUID(), causationId: 'c' },
    });
    expect(waiting).toEqual({ payment: { status: 'REQUIRES_CONFIRMATION', paymentId: expect.any(String) } });
    expect(await statusOf(threeDs.orderId)).toBe('STOCK_RESERVED');
  });

  it('a step done whose move is refused fails retryably (StepRecordNotWritten, with the refusal as cause), so the saga takes over', async () => {
    const sku = await product(10);
    const { orderId, placed, lines } = await placedOrder(sku, 2);
    // A cancelled order may not move to STOCK_RESERVED: the state machine refuses it for good, the step has happened.
    await env.run(acts.recordOrderTransition, {
      orderId, eventId: randomUUID(), causationId: placed, transition: { to: 'CANCELLED' as const, reasonCode: 'CUSTOMER_CANCELLED' as const, reason: 'test' },
    });
    const err: unknown = await env.run(acts.reserveStockRecorded, { step: { orderId, lines }, record: { orderId, eventId: randomUUID(), causationId: placed } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: STEP_RECORD_NOT_WRITTEN_FAILURE, nonRetryable: false });
    expect((err as ApplicationFailure).cause).toMatchObject({ type: INVALID_TRANSITION_FAILURE });
    expect(await peers.inventory.getProduct(sku)).toMatchObject({ reserved: 2 });
    expect(await statusOf(orderId)).toBe('CANCELLED');
    await env.run(acts.releaseStock, { orderId });
  });

  it('an attempt given up while its step runs (a local attempt past its timeout) does the step but never writes the move', async () => {
    const sku = await product(10);
    const { orderId, placed, lines } = await placedOrder(sku, 2);
    const givenUp = new MockActivityEnvironment(); // cancel() reaches every activity run in its environment
    await setPeerFaults(peers.inventoryUrl, { latencyMs: 600 });
    try {
      const attempt = givenUp.run(acts.reserveStockRecorded, {
        step: { orderId, lines }, record: { orderId, eventId: randomUUID(), causationId: placed },
      });
      setTimeout(() => givenUp.cancel('TIMED_OUT'), 200);
      await expect(attempt).rejects.toBeDefined();
    } finally {
      await setPeerFaults(peers.inventoryUrl, {});
    }
    expect(await peers.inventory.getProduct(sku)).toMatchObject({ reserved: 2 }); // the step landed late (the undo releases it)
    expect(await statusOf(orderId)).toBe('PENDING');
    expect((await eventsOf(orderId)).map((e) => e.type)).toEqual(['OrderPlaced']);
    await env.run(acts.releaseStock, { orderId });
  });

  it('captures and records PAYMENT_CAPTURED', async () => {
    const sku = await product(10);
    const { orderId, placed } = await placedOrder(sku, 1);
    await env.run(acts.recordOrderTransition, { orderId, eventId: randomUUID(), causationId: placed, transition: { to: 'STOCK_RESERVED' as const } });
    const { payment, eventId: authorized } = await env.run(acts.authorizePaymentRecorded, {
      step: { orderId, amountCents: 500, currency: 'EUR', paymentToken: 'tok_visa' }, record: { orderId, eventId: randomUUID(), causationId: 'c' },
    }) as Authorized;
    const eventId = randomUUID();
    await expect(env.run(acts.capturePaymentRecorded, { step: { orderId, paymentId: payment.paymentId }, record: { orderId, eventId, causationId: authorized! } })).resolves.toBe(eventId);
    expect(await statusOf(orderId)).toBe('PAYMENT_CAPTURED');
    expect((await peers.payment.forOrder(orderId)).balance).toMatchObject({ capturedCents: 500 });
  });
});
