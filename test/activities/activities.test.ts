import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { OrderActivities } from '../../activities';
import { peerActivities } from '../harness/order-worker';
import type { AuthorizeResult } from '../../activities/payment';
import { TransientPeerError } from '../../common/clients/http-json';
import { Pool } from 'pg';
import { idempotencyKeys } from '../../activities/idempotency-keys';
import { InventoryClient } from '../../common/clients/inventory-client';
import { PaymentClient } from '../../common/clients/payment-client';
import { BusinessFailure, INVALID_TRANSITION_FAILURE, ORDER_SECRET_MISSING_FAILURE, STOCK_ALREADY_COMMITTED_FAILURE } from '../../common/failures';
import { storeOrderSecrets, sweepOrderVault } from '../../common/order-vault';
import { setPeerFaults, startPeers, TEST_CALLERS, waitFor, type Peers } from '../harness/system';

/** Activities run one by one (outside a workflow) against real Postgres and real peer services. */
describe('order activities', () => {
  let peers: Peers;
  let acts: OrderActivities;
  const env = new MockActivityEnvironment();

  beforeAll(async () => {
    peers = await startPeers();
    acts = peerActivities(peers);
  });
  afterAll(() => peers?.stop());

  async function newOrder(totalCents = 1000) {
    const orderId = randomUUID();
    await env.run(acts.recordOrderPlaced, {
      eventId: randomUUID(),
      order: { orderId, customerId: 'c-9', customerEmail: 'c9@shop.example', currency: 'EUR', lines: [{ sku: 'A', quantity: 1, unitPriceCents: totalCents }], totalCents, correlationId: 'corr-1' },
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

  describe('order state', () => {
    it('writes a state change once however often it is retried, with its event in the outbox', async () => {
      const orderId = await newOrder();
      const request = { orderId, eventId: randomUUID(), causationId: 'cause-1', transition: { to: 'STOCK_RESERVED' as const } };
      await env.run(acts.recordOrderTransition, request);
      await env.run(acts.recordOrderTransition, request);
      const events = await peers.db.outboxEvent.findMany({ where: { aggregateId: orderId }, orderBy: { sequence: 'asc' } });
      expect(events.map((e) => [e.type, e.correlationId])).toEqual([['OrderPlaced', 'corr-1'], ['StockReserved', 'corr-1']]);
      expect(events[1]!.causationId).toBe('cause-1');
      expect((await peers.db.order.findUniqueOrThrow({ where: { id: orderId } })).status).toBe('STOCK_RESERVED');
    });

    it('refuses a transition the state machine does not allow, as a non-retryable failure', async () => {
      const orderId = await newOrder();
      const err = await failureOf(env.run(acts.recordOrderTransition, { orderId, eventId: randomUUID(), causationId: 'x', transition: { to: 'CONFIRMED' as const } }));
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: INVALID_TRANSITION_FAILURE, nonRetryable: true });
      expect((await peers.db.order.findUniqueOrThrow({ where: { id: orderId } })).status).toBe('PENDING');
      expect(await peers.db.outboxEvent.count({ where: { aggregateId: orderId } })).toBe(1);
    });
  });

  describe('inventory', () => {
    it('reserves once when the activity is retried after the effect', async () => {
      await peers.inventory.upsertProduct('ACT-1', { name: 'x', priceCents: 100, stock: 10 });
      const orderId = randomUUID();
      await env.run(acts.reserveStock, { orderId, lines: [{ sku: 'ACT-1', quantity: 4 }] });
      await env.run(acts.reserveStock, { orderId, lines: [{ sku: 'ACT-1', quantity: 4 }] });
      expect(await peers.inventory.getProduct('ACT-1')).toMatchObject({ stock: 10, reserved: 4 });
      await env.run(acts.releaseStock, { orderId });
      await env.run(acts.releaseStock, { orderId });
      expect(await peers.inventory.getProduct('ACT-1')).toMatchObject({ stock: 10, reserved: 0 });
    });

    it('reports out of stock as a non-retryable business failure', async () => {
      await peers.inventory.upsertProduct('ACT-2', { name: 'x', priceCents: 100, stock: 1 });
      const err = await failureOf(env.run(acts.reserveStock, { orderId: randomUUID(), lines: [{ sku: 'ACT-2', quantity: 2 }] }));
      expect(err).toMatchObject({ type: BusinessFailure.OutOfStock, nonRetryable: true });
    });

    it('lets a service outage through as a retryable error', async () => {
      await peers.inventory.upsertProduct('ACT-3', { name: 'x', priceCents: 100, stock: 5 });
      await setPeerFaults(peers.inventoryUrl, { failNextRequests: 1 });
      const err = await failureOf(env.run(acts.reserveStock, { orderId: randomUUID(), lines: [{ sku: 'ACT-3', quantity: 1 }] }));
      expect(err).toBeInstanceOf(TransientPeerError);
      expect(err).not.toBeInstanceOf(ApplicationFailure);
    });

    it('releasing an order that reserved nothing is a no-op', async () => {
      await expect(env.run(acts.releaseStock, { orderId: randomUUID() })).resolves.toBe('nothing-reserved');
    });

    it('never reports committed stock as released: StockAlreadyCommitted, non-retryable', async () => {
      await peers.inventory.upsertProduct('ACT-4', { name: 'x', priceCents: 100, stock: 5 });
      const orderId = randomUUID();
      await env.run(acts.reserveStock, { orderId, lines: [{ sku: 'ACT-4', quantity: 2 }] });
      await env.run(acts.commitStock, { orderId });
      const err = await failureOf(env.run(acts.releaseStock, { orderId }));
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: STOCK_ALREADY_COMMITTED_FAILURE, nonRetryable: true });
      // a retry of the undo gets the same answer, and the stock stays committed
      expect(await failureOf(env.run(acts.releaseStock, { orderId }))).toMatchObject({ type: STOCK_ALREADY_COMMITTED_FAILURE, nonRetryable: true });
      expect(await peers.inventory.getProduct('ACT-4')).toMatchObject({ stock: 3, reserved: 0 });
    });

    it('a reserve that lands after the release reserves nothing, and its retry fails as a business failure', async () => {
      await peers.inventory.upsertProduct('ACT-5', { name: 'x', priceCents: 100, stock: 5 });
      const orderId = randomUUID();
      const lines = [{ sku: 'ACT-5', quantity: 2 }];
      // An activity whose client gives up long before the slowed-down service runs the reserve.
      const impatient = peerActivities(peers, { inventory: new InventoryClient(peers.inventoryUrl, TEST_CALLERS.worker, 300) });
      await setPeerFaults(peers.inventoryUrl, { latencyMs: 1_000 });
      try {
        expect(await failureOf(env.run(impatient.reserveStock, { orderId, lines }))).toBeInstanceOf(TransientPeerError);
      } finally {
        await setPeerFaults(peers.inventoryUrl, {});
      }
      // The saga undoes the order: nothing is reserved yet.
      await expect(env.run(acts.releaseStock, { orderId })).resolves.toBe('nothing-reserved');
      // Then the first reserve runs inside the service, and answers nobody.
      const pool = new Pool({ connectionString: peers.database.url });
      try {
        await waitFor('the late reserve to have run', async () => {
          const { rows } = await pool.query('SELECT 1 FROM inventory.idempotency_keys WHERE key = $1', [idempotencyKeys.reserveStock(orderId)]);
          return rows.length > 0;
        }, 10_000, 50);
      } finally {
        await pool.end();
      }
      expect(await peers.inventory.getProduct('ACT-5')).toMatchObject({ stock: 5, reserved: 0 });
      // A retry of the reserve (same key) is told the order was released: nothing to reserve, never retried.
      const err = await failureOf(env.run(acts.reserveStock, { orderId, lines }));
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: BusinessFailure.ReservationReleased, nonRetryable: true });
      expect(await peers.inventory.getProduct('ACT-5')).toMatchObject({ reserved: 0 });
    });

    it('refuses to commit the stock of an order that was released, non-retryably', async () => {
      const orderId = randomUUID();
      await expect(env.run(acts.releaseStock, { orderId })).resolves.toBe('nothing-reserved');
      const err = await failureOf(env.run(acts.commitStock, { orderId }));
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: BusinessFailure.ReservationReleased, nonRetryable: true });
    });
  });

  describe('order vault', () => {
    it('records an order with the email from the vault, and forgets the secrets when the order ends', async () => {
      const orderId = randomUUID();
      await storeOrderSecrets(peers.pool, { orderId, clientId: 'test-shop', customerId: 'c-v', customerEmail: 'vault@shop.example', paymentToken: 'tok_visa' });
      await env.run(acts.recordOrderPlaced, {
        eventId: randomUUID(),
        order: { orderId, customerId: 'c-v', currency: 'EUR', lines: [{ sku: 'A', quantity: 1, unitPriceCents: 700 }], totalCents: 700, correlationId: 'corr-v' },
      });
      expect((await peers.db.order.findUniqueOrThrow({ where: { id: orderId } })).customerEmail).toBe('vault@shop.example');
      expect(await peers.db.orderVault.findUnique({ where: { orderId } })).not.toBeNull();
      await env.run(acts.recordOrderTransition, { orderId, eventId: randomUUID(), causationId: 'c', transition: { to: 'CANCELLED' as const, reasonCode: 'CUSTOMER_CANCELLED' as const, reason: 'r' } });
      expect(await peers.db.orderVault.findUnique({ where: { orderId } })).toBeNull();
    });

    it('authorizes with the token from the vault; without one it fails for good, naming what is missing', async () => {
      const orderId = randomUUID();
      await storeOrderSecrets(peers.pool, { orderId, clientId: 'test-shop', customerId: 'c-v', customerEmail: 'v@shop.example', paymentToken: 'tok_visa' });
      await expect(env.run(acts.authorizePayment, { orderId, amountCents: 800, currency: 'EUR' })).resolves.toMatchObject({ status: 'AUTHORIZED' });
      const missing = randomUUID();
      const err = await failureOf(env.run(acts.authorizePayment, { orderId: missing, amountCents: 800, currency: 'EUR' }));
      expect(err).toMatchObject({ type: ORDER_SECRET_MISSING_FAILURE, nonRetryable: true });
      expect((err as Error).message).toContain(`payment token of order ${missing}`);
    });

    it('sweeps vault rows past their retention', async () => {
      const orderId = randomUUID();
      await storeOrderSecrets(peers.pool, { orderId, clientId: 'test-shop', customerId: 'c-v', customerEmail: 'old@shop.example', paymentToken: 'tok_visa' });
      await peers.db.orderVault.update({ where: { orderId }, data: { createdAt: new Date(Date.now() - 3_600_000) } });
      const pool = new Pool({ connectionString: peers.database.url });
      try {
        expect(await sweepOrderVault(pool, 60_000)).toBeGreaterThanOrEqual(1);
        expect(await peers.db.orderVault.findUnique({ where: { orderId } })).toBeNull();
      } finally {
        await pool.end();
      }
    });
  });

  describe('payment', () => {
    it('authorizes once when retried, and voids exactly what was authorized', async () => {
      const orderId = randomUUID();
      const req = { orderId, amountCents: 2300, currency: 'EUR', paymentToken: 'tok_visa' };
      const first = await env.run(acts.authorizePayment, req);
      const again = await env.run(acts.authorizePayment, req);
      expect(again).toEqual(first);
      await expect(env.run(acts.voidPayment, { orderId })).resolves.toBe('voided');
      const { operations, balance } = await peers.payment.forOrder(orderId);
      expect(operations.map((o) => o.kind)).toEqual(['authorize', 'void']);
      expect(balance).toMatchObject({ authorizedCents: 2300, voidedCents: 2300, capturedCents: 0 });
    });

    it('reports a decline as a non-retryable business failure and has nothing to void', async () => {
      const orderId = randomUUID();
      const err = await failureOf(env.run(acts.authorizePayment, { orderId, amountCents: 500, currency: 'EUR', paymentToken: 'tok_chargeDeclined' }));
      expect(err).toMatchObject({ type: BusinessFailure.PaymentDeclined, nonRetryable: true });
      await expect(env.run(acts.voidPayment, { orderId })).resolves.toBe('nothing-to-void');
    });

    it('captures once and refunds the capture', async () => {
      const orderId = randomUUID();
      const { paymentId } = (await env.run(acts.authorizePayment, { orderId, amountCents: 900, currency: 'EUR', paymentToken: 'tok_visa' })) as AuthorizeResult;
      await env.run(acts.capturePayment, { orderId, paymentId });
      await env.run(acts.capturePayment, { orderId, paymentId });
      await expect(env.run(acts.refundPayment, { orderId })).resolves.toBe('refunded');
      expect((await peers.payment.forOrder(orderId)).balance).toMatchObject({ capturedCents: 900, refundedCents: 900 });
    });

    describe('late answers: a request still running in the payment service after the activity gave up', () => {
      /** The same activities with a client that gives up after 300 ms, as an activity whose call timed out. */
      let impatient: OrderActivities;
      const LATE_MS = 1_500;
      beforeAll(() => {
        impatient = peerActivities(peers, { payment: new PaymentClient(peers.paymentUrl, TEST_CALLERS.worker, 300) });
      });
      afterEach(() => setPeerFaults(peers.paymentUrl, {}));

      /** Sends `call` while the payment service holds mutating requests for LATE_MS before running them; returns once the client gave up. */
      async function giveUpOnSlowCall(call: () => Promise<unknown>): Promise<void> {
        await setPeerFaults(peers.paymentUrl, { latencyMs: LATE_MS });
        await expect(call()).rejects.toBeInstanceOf(TransientPeerError);
        await setPeerFaults(peers.paymentUrl, {}); // the held request keeps its delay; the undos run at once
      }
      const operationsOf = async (orderId: string) => (await peers.payment.forOrder(orderId)).operations.map((o) => `${o.kind}:${o.outcome}`);

      it('refuses an authorization that lands after the void undo, so no card hold is left', async () => {
        const orderId = randomUUID();
        await giveUpOnSlowCall(() => env.run(impatient.authorizePayment, { orderId, amountCents: 1_200, currency: 'EUR', paymentToken: 'tok_visa' }));
        await expect(env.run(acts.voidPayment, { orderId })).resolves.toBe('nothing-to-void');
        await waitFor('the late authorization to reach the payment service', async () => (await operationsOf(orderId)).some((o) => o.startsWith('authorize:')), 10_000, 50);

        const { payment, balance, operations } = await peers.payment.forOrder(orderId);
        expect(payment).toBeNull();
        expect(balance).toMatchObject({ authorizedCents: 0, heldCents: 0 });
        expect(operations).toEqual([expect.objectContaining({ kind: 'authorize', outcome: 'failed', declineCode: 'order_closed' })]);
        // The undo's answer does not change when it is retried.
        await expect(env.run(acts.voidPayment, { orderId })).resolves.toBe('nothing-to-void');
      });

      it('refuses a capture that lands after the refund undo, and the void undo then releases the hold', async () => {
        const orderId = randomUUID();
        const { paymentId } = (await env.run(acts.authorizePayment, { orderId, amountCents: 1_300, currency: 'EUR', paymentToken: 'tok_visa' })) as AuthorizeResult;
        await giveUpOnSlowCall(() => env.run(impatient.capturePayment, { orderId, paymentId }));
        // The saga's undos in reverse: refund (capture was attempted), then void.
        await expect(env.run(acts.refundPayment, { orderId })).resolves.toBe('nothing-to-refund');
        await waitFor('the late capture to reach the payment service', async () => (await operationsOf(orderId)).some((o) => o.startsWith('capture:')), 10_000, 50);
        await expect(env.run(acts.voidPayment, { orderId })).resolves.toBe('voided');

        const { payment, balance } = await peers.payment.forOrder(orderId);
        expect(payment).toMatchObject({ status: 'VOIDED' });
        expect(balance).toMatchObject({ authorizedCents: 1_300, capturedCents: 0, voidedCents: 1_300, heldCents: 0, netCapturedCents: 0 });
        expect(await operationsOf(orderId)).toEqual(['authorize:approved', 'capture:failed', 'void:approved']);
      });

      it('refunds a payment the void undo finds captured: no money stays taken', async () => {
        const orderId = randomUUID();
        const { paymentId } = (await env.run(acts.authorizePayment, { orderId, amountCents: 1_400, currency: 'EUR', paymentToken: 'tok_visa' })) as AuthorizeResult;
        // Captured with no refund undo before the void undo (e.g. an execution that registered none).
        await peers.payment.capture(paymentId, `late-capture-${orderId}`);
        await expect(env.run(acts.voidPayment, { orderId })).resolves.toBe('refunded');
        await expect(env.run(acts.voidPayment, { orderId })).resolves.toBe('refunded');

        const { payment, balance } = await peers.payment.forOrder(orderId);
        expect(payment).toMatchObject({ status: 'REFUNDED' });
        expect(balance).toMatchObject({ capturedCents: 1_400, refundedCents: 1_400, heldCents: 0, netCapturedCents: 0 });
      });

      it('has nothing to undo for a declined payment, and then refuses a new authorization for the order', async () => {
        const orderId = randomUUID();
        await failureOf(env.run(acts.authorizePayment, { orderId, amountCents: 500, currency: 'EUR', paymentToken: 'tok_chargeDeclined' }));
        await expect(env.run(acts.refundPayment, { orderId })).resolves.toBe('nothing-to-refund');
        await expect(env.run(acts.voidPayment, { orderId })).resolves.toBe('nothing-to-void');
        const late = await peers.payment.authorize({ orderId, amountCents: 500, currency: 'EUR', token: 'tok_visa' }, `another-card-${orderId}`);
        expect(late).toEqual({ kind: 'refused', reason: 'order-closed' });
        expect((await peers.payment.forOrder(orderId)).balance).toMatchObject({ authorizedCents: 0, heldCents: 0 });
      });
    });
  });
});
