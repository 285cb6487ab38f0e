import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import {
  cancelOrderUpdate, orderStatusQuery, orderWorkflowId, orderWorkflowStartOptions, paymentConfirmationSignal, type OrderSagaState, type OrderWorkflowInput,
} from '../../common/order/workflow-contract';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { orderWorkflow } from '../../workflows';
import { decodedHistoryOf, maybeRecordHistory, payloadTextOf } from '../harness/histories';
import { storeOrderSecrets } from '../../common/order-vault';
import { peerHeaders, setPeerFaults, startPeers, waitFor, type Peers } from '../harness/system';
import { createTimeSkippingEnv } from '../harness/temporal';
import { localActivities, regularActivities } from './history-activities';
import { cleanUp } from '../harness/clean-up';
import { startOrderWorker } from '../harness/order-worker';

/**
 * The order saga on Temporal's time-skipping test server, with the real activities talking to
 * real inventory and payment services and a real Postgres.
 */
describe('order workflow (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let peers: Peers;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `wf-test-${randomUUID()}`;

  beforeAll(async () => {
    [env, peers] = await Promise.all([createTimeSkippingEnv(), startPeers()]);
    ({ worker, running } = await startOrderWorker(env, peers, taskQueue));
  });

  afterAll(() => cleanUp(
    () => worker?.shutdown(),
    () => running,
    () => env?.teardown(),
    () => peers?.stop(),
  ));

  async function product(stock: number, priceCents = 1500): Promise<string> {
    const sku = `SKU-${randomUUID().slice(0, 8)}`;
    await peers.inventory.upsertProduct(sku, { name: 'Test product', priceCents, stock });
    return sku;
  }

  /** An order as the API places it: email and card token in the order vault, ids and amounts in the input. */
  async function input(sku: string, quantity: number, token: string, unitPriceCents = 1500): Promise<OrderWorkflowInput> {
    const orderId = randomUUID();
    await storeOrderSecrets(peers.pool, { orderId, clientId: 'test-shop', customerId: 'cust-1', customerEmail: 'buyer@shop.example', paymentToken: token });
    return {
      orderId, customerId: 'cust-1', currency: 'EUR',
      lines: [{ sku, quantity, unitPriceCents }], totalCents: quantity * unitPriceCents, correlationId: randomUUID(),
    };
  }

  async function run(i: OrderWorkflowInput) {
    return env.client.workflow.execute(orderWorkflow, orderWorkflowStartOptions(i, taskQueue));
  }

  const record = (name: string, orderId: string) => maybeRecordHistory(name, env.client.workflow.getHandle(orderWorkflowId(orderId)));

  async function eventTypes(orderId: string): Promise<string[]> {
    const rows = await peers.db.outboxEvent.findMany({ where: { aggregateId: orderId }, orderBy: { sequence: 'asc' } });
    return rows.map((r) => r.type);
  }

  it('confirms an order: stock committed, payment captured, one event per state change', async () => {
    const sku = await product(10);
    const order = await input(sku, 3, 'tok_visa');
    await expect(run(order)).resolves.toEqual({ orderId: order.orderId, status: 'CONFIRMED' });

    expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 7, reserved: 0, available: 7 });
    const { balance } = await peers.payment.forOrder(order.orderId);
    expect(balance).toMatchObject({ authorizedCents: 4500, capturedCents: 4500, voidedCents: 0, refundedCents: 0 });
    const row = await peers.db.order.findUniqueOrThrow({ where: { id: order.orderId } });
    expect(row.status).toBe('CONFIRMED');
    expect(await eventTypes(order.orderId)).toEqual(['OrderPlaced', 'StockReserved', 'PaymentAuthorized', 'PaymentCaptured', 'OrderConfirmed']);
    expect(row.customerEmail).toBe('buyer@shop.example');
    // The secrets went from the vault to where they are needed, never through Temporal, and left with the order.
    expect(await peers.db.orderVault.findUnique({ where: { orderId: order.orderId } })).toBeNull();
    // Decrypted, as an operator with the codec key sees it: the ids are there, the secrets are not.
    const history = payloadTextOf(await decodedHistoryOf(env.client.workflow.getHandle(orderWorkflowId(order.orderId))));
    expect(history).toContain(order.orderId);
    expect(history).not.toContain('buyer@shop.example');
    expect(history).not.toContain('tok_visa');
    // Few round trips: everything but the stock commit ran as local activities, each forward step
    // recording its own transition, and OrderStatus was upserted once per new status.
    const { events } = await env.client.workflow.getHandle(orderWorkflowId(order.orderId)).fetchHistory();
    expect(regularActivities(events)).toEqual(['commitStock']);
    expect(localActivities(events).map((a) => `${a.type}#${a.attempt}`)).toEqual([
      'recordOrderPlaced#1', 'reserveStockRecorded#1', 'authorizePaymentRecorded#1', 'capturePaymentRecorded#1', 'recordOrderTransition#1',
    ]);
    expect(events!.filter((e) => e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.OrderStatus)).toHaveLength(4);
    await record('happy-path', order.orderId);
    await record('happy-path-order-vault', order.orderId);
    await record('happy-path-local-first', order.orderId);
    await record('happy-path-fused-records', order.orderId);
  });

  it('still completes an order started the old way, with the email and token in its input', async () => {
    const sku = await product(3);
    const order = { orderId: randomUUID(), customerId: 'cust-old', customerEmail: 'old@shop.example', currency: 'EUR',
      lines: [{ sku, quantity: 1, unitPriceCents: 1500 }], totalCents: 1500, paymentToken: 'tok_visa', correlationId: randomUUID() };
    await expect(run(order)).resolves.toEqual({ orderId: order.orderId, status: 'CONFIRMED' });
    expect(await peers.db.order.findUniqueOrThrow({ where: { id: order.orderId } })).toMatchObject({ customerEmail: 'old@shop.example', status: 'CONFIRMED' });
  });

  it('cancels an order whose card token is no longer in the vault, releasing its stock', async () => {
    const sku = await product(4);
    const order = await input(sku, 2, 'tok_visa');
    await peers.db.orderVault.update({ where: { orderId: order.orderId }, data: { paymentToken: null } });
    await expect(run(order)).resolves.toMatchObject({ orderId: order.orderId, status: 'CANCELLED', reasonCode: 'PROCESSING_FAILED' });
    expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 4, reserved: 0 });
    expect((await peers.payment.forOrder(order.orderId)).balance).toMatchObject({ authorizedCents: 0 });
  });

  it('cancels an order that is out of stock, reserving and charging nothing', async () => {
    const sku = await product(2);
    const order = await input(sku, 5, 'tok_visa');
    const outcome = await run(order);
    expect(outcome).toMatchObject({ status: 'CANCELLED', reasonCode: 'OUT_OF_STOCK' });

    expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 2, reserved: 0 });
    const payments = await peers.payment.forOrder(order.orderId);
    expect(payments.operations).toHaveLength(0);
    const row = await peers.db.order.findUniqueOrThrow({ where: { id: order.orderId } });
    expect(row).toMatchObject({ status: 'CANCELLED', cancelReasonCode: 'OUT_OF_STOCK' });
    expect(await eventTypes(order.orderId)).toEqual(['OrderPlaced', 'OrderCancelled']);
    await record('out-of-stock', order.orderId);
    await record('out-of-stock-fused-records', order.orderId);
  });

  it('cancels an order whose card is declined and releases its stock', async () => {
    const sku = await product(4);
    const order = await input(sku, 2, 'tok_chargeDeclined');
    const outcome = await run(order);
    expect(outcome).toMatchObject({ status: 'CANCELLED', reasonCode: 'PAYMENT_DECLINED' });

    expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 4, reserved: 0, available: 4 });
    const payments = await peers.payment.forOrder(order.orderId);
    expect(payments.balance).toMatchObject({ capturedCents: 0, refundedCents: 0 });
    expect(payments.operations.map((o) => [o.kind, o.outcome])).toEqual([['authorize', 'declined']]);
    expect(await eventTypes(order.orderId)).toEqual(['OrderPlaced', 'StockReserved', 'OrderCancelled']);
    await record('payment-declined', order.orderId);
    await record('payment-declined-local-first', order.orderId);
    await record('payment-declined-fused-records', order.orderId);
  });

  it('never starts a second saga for the same order id', async () => {
    const sku = await product(10);
    const order = await input(sku, 1, 'tok_visa');
    await run(order);
    await expect(env.client.workflow.start(orderWorkflow, orderWorkflowStartOptions(order, taskQueue)))
      .rejects.toThrow(/already/i);
    expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 9 });
  });

  async function start(i: OrderWorkflowInput) {
    return env.client.workflow.start(orderWorkflow, orderWorkflowStartOptions(i, taskQueue));
  }

  async function untilStep(handle: Awaited<ReturnType<typeof start>>, predicate: (s: Awaited<ReturnType<typeof handle.query<OrderSagaState>>>) => boolean) {
    return waitFor('the saga to reach the expected step', async () => {
      const state = await handle.query(orderStatusQuery);
      return predicate(state) ? state : undefined;
    }, 30_000, 50);
  }

  describe('payment confirmation (3-D Secure)', () => {
    it('waits for the confirmation signal, then confirms the order', async () => {
      const sku = await product(5);
      const order = await input(sku, 1, 'tok_threeDSecure');
      const handle = await start(order);
      const waiting = await untilStep(handle, (s) => s.status === 'AWAITING_PAYMENT_CONFIRMATION');
      expect(waiting.paymentConfirmationDeadline).toBeDefined();
      // The customer passes the challenge at the payment provider, which then tells us (the webhook's job).
      const challenge = await fetch(`${peers.paymentUrl}/test/3ds/${order.orderId}`, { method: 'POST', headers: peerHeaders(), body: JSON.stringify({ outcome: 'complete' }) });
      expect(challenge.status).toBe(200);
      await handle.signal(paymentConfirmationSignal, { outcome: 'confirmed', eventId: 'evt-1' });
      await handle.signal(paymentConfirmationSignal, { outcome: 'failed', eventId: 'evt-2' }); // a late, contradicting duplicate changes nothing
      await expect(handle.result()).resolves.toMatchObject({ status: 'CONFIRMED' });
      expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 4, reserved: 0 });
      expect(await eventTypes(order.orderId)).toEqual(['OrderPlaced', 'StockReserved', 'PaymentConfirmationRequested', 'PaymentAuthorized', 'PaymentCaptured', 'OrderConfirmed']);
      await record('payment-confirmed', order.orderId);
      await record('payment-confirmed-local-first', order.orderId);
      await record('payment-confirmed-fused-records', order.orderId);
    });

    it('cancels after the default 15 minute deadline and undoes everything', async () => {
      const sku = await product(5);
      const order = await input(sku, 2, 'tok_threeDSecure');
      const outcome = await run(order); // the time-skipping server jumps over the 15 minutes
      expect(outcome).toMatchObject({ status: 'CANCELLED', reasonCode: 'PAYMENT_CONFIRMATION_TIMEOUT' });
      expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 5, reserved: 0 });
      const payments = await peers.payment.forOrder(order.orderId);
      expect(payments.payment?.status).toBe('VOIDED');
      expect(payments.balance).toMatchObject({ capturedCents: 0, refundedCents: 0 });
      const history = await env.client.workflow.getHandle(orderWorkflowId(order.orderId)).fetchHistory();
      const timer = history.events!.find((e) => e.timerStartedEventAttributes)?.timerStartedEventAttributes;
      expect(Number(timer!.startToFireTimeout!.seconds)).toBe(15 * 60);
      await record('payment-confirmation-timeout', order.orderId);
      await record('payment-confirmation-timeout-fused-records', order.orderId);
    });

    it('honours a configured deadline and a failed confirmation', async () => {
      const sku = await product(5);
      const order = { ...(await input(sku, 1, 'tok_threeDSecure')), paymentConfirmationTimeoutMs: 20_000 };
      const handle = await start(order);
      await untilStep(handle, (s) => s.status === 'AWAITING_PAYMENT_CONFIRMATION');
      await handle.signal(paymentConfirmationSignal, { outcome: 'failed', eventId: 'evt-3' });
      await expect(handle.result()).resolves.toMatchObject({ status: 'CANCELLED', reasonCode: 'PAYMENT_DECLINED' });
      expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 5, reserved: 0 });
      expect((await peers.payment.forOrder(order.orderId)).payment?.status).toBe('VOIDED');
      await record('payment-confirmation-failed', order.orderId);
    });
  });

  describe('customer cancellation', () => {
    it('before capture: voids the authorization and releases the stock', async () => {
      const sku = await product(5);
      const order = await input(sku, 2, 'tok_threeDSecure');
      const handle = await start(order);
      await untilStep(handle, (s) => s.status === 'AWAITING_PAYMENT_CONFIRMATION');
      const result = await handle.executeUpdate(cancelOrderUpdate);
      expect(result).toMatchObject({ status: 'CANCELLED', reasonCode: 'CUSTOMER_CANCELLED', refunded: false });
      await expect(handle.executeUpdate(cancelOrderUpdate)).rejects.toThrow(); // finished: the API answers from the database
      expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 5, reserved: 0 });
      const payments = await peers.payment.forOrder(order.orderId);
      expect(payments.balance).toMatchObject({ capturedCents: 0, refundedCents: 0 });
      expect(payments.payment?.status).toBe('VOIDED');
      await record('customer-cancel-before-capture', order.orderId);
    });

    it('during capture: waits for the capture, then refunds it', async () => {
      const sku = await product(5);
      const order = await input(sku, 1, 'tok_visa');
      await setPeerFaults(peers.paymentUrl, { latencyMs: 1500 });
      const handle = await start(order);
      try {
        await untilStep(handle, (s) => s.currentStep === 'capture-payment');
        const result = await handle.executeUpdate(cancelOrderUpdate);
        expect(result).toMatchObject({ status: 'CANCELLED', reasonCode: 'CUSTOMER_CANCELLED', refunded: true });
      } finally {
        await setPeerFaults(peers.paymentUrl, {});
      }
      expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 5, reserved: 0 });
      const payments = await peers.payment.forOrder(order.orderId);
      expect(payments.balance).toMatchObject({ capturedCents: 1500, refundedCents: 1500 });
      const cancelled = await peers.db.outboxEvent.findFirstOrThrow({ where: { aggregateId: order.orderId, type: 'OrderCancelled' } });
      expect(cancelled.payload).toMatchObject({ reasonCode: 'CUSTOMER_CANCELLED', refundedCents: 1500 });
      await record('customer-cancel-after-capture', order.orderId);
      await record('customer-cancel-after-capture-local-first', order.orderId);
      await record('customer-cancel-after-capture-fused-records', order.orderId);
    });

    it('before the payment step: releases the stock and fences the payment, which a lost workflow task may have asked for', async () => {
      const sku = await product(5);
      const order = await input(sku, 1, 'tok_visa');
      await setPeerFaults(peers.inventoryUrl, { latencyMs: 1500 }); // slower than a local attempt: the reserve waits in a regular activity
      const handle = await start(order);
      try {
        await untilStep(handle, (s) => s.currentStep === 'reserve-stock');
        const result = await handle.executeUpdate(cancelOrderUpdate);
        expect(result).toMatchObject({ status: 'CANCELLED', reasonCode: 'CUSTOMER_CANCELLED', refunded: false });
      } finally {
        await setPeerFaults(peers.inventoryUrl, {});
      }
      expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 5, reserved: 0 });
      // The payment undo ran although the saga never asked for a payment: a late authorization is refused, nothing was charged.
      const late = await peers.payment.authorize({ orderId: order.orderId, amountCents: 1500, currency: 'EUR', token: 'tok_visa' }, `late-${order.orderId}`);
      expect(late).toEqual({ kind: 'refused', reason: 'order-closed' });
      expect((await peers.payment.forOrder(order.orderId)).balance).toMatchObject({ authorizedCents: 0, capturedCents: 0 });
      expect(await eventTypes(order.orderId)).toEqual(['OrderPlaced', 'StockReserved', 'OrderCancelled']);
      await record('customer-cancel-before-payment-local-first', order.orderId);
      await record('customer-cancel-before-payment-fused-records', order.orderId);
    });

    it('is refused once the order is being confirmed, and after it is', async () => {
      const sku = await product(5);
      const order = await input(sku, 1, 'tok_visa');
      await setPeerFaults(peers.inventoryUrl, { latencyMs: 1500 });
      const handle = await start(order);
      try {
        await untilStep(handle, (s) => s.currentStep === 'commit-stock');
        const refused = await handle.executeUpdate(cancelOrderUpdate).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
        expect((refused as WorkflowUpdateFailedError).cause?.message).toMatch(/can no longer be cancelled/);
      } finally {
        await setPeerFaults(peers.inventoryUrl, {});
      }
      await expect(handle.result()).resolves.toMatchObject({ status: 'CONFIRMED' });
      expect((await peers.payment.forOrder(order.orderId)).balance).toMatchObject({ capturedCents: 1500, refundedCents: 0 });
      await record('customer-cancel-refused', order.orderId);
    });
  });

  describe('faults', () => {
    it('retries a peer that is down for a while and still confirms, without reserving twice', async () => {
      const sku = await product(5);
      const order = await input(sku, 2, 'tok_visa');
      await setPeerFaults(peers.inventoryUrl, { failNextRequests: 8 });
      await expect(run(order)).resolves.toMatchObject({ status: 'CONFIRMED' });
      expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 3, reserved: 0 });
      // Nine calls in all: the local attempt failed, the regular activity that took over succeeded at its 8th.
      const { events } = await env.client.workflow.getHandle(orderWorkflowId(order.orderId)).fetchHistory();
      expect(localActivities(events).filter((a) => a.type.startsWith('reserveStock'))).toEqual([{ type: 'reserveStockRecorded', attempt: 1, failed: true }]);
      const reserveStarted = events!.find((e) => e.activityTaskStartedEventAttributes && e.activityTaskStartedEventAttributes.attempt! > 1);
      expect(reserveStarted?.activityTaskStartedEventAttributes?.attempt).toBe(8);
      await record('transient-fault-retried', order.orderId);
      await record('transient-fault-retried-local-first', order.orderId);
      await record('transient-fault-retried-fused-records', order.orderId);
    });

    it('ends COMPENSATION_FAILED, with what is left to do, when an undo cannot finish in 24 hours', async () => {
      const sku = await product(5);
      const order = await input(sku, 1, 'tok_threeDSecure');
      const handle = await start(order);
      await untilStep(handle, (s) => s.status === 'AWAITING_PAYMENT_CONFIRMATION');
      await setPeerFaults(peers.paymentUrl, { failNextRequests: 1_000_000 });
      try {
        await expect(handle.result()).resolves.toMatchObject({
          status: 'COMPENSATION_FAILED', reasonCode: 'PAYMENT_CONFIRMATION_TIMEOUT', pendingUndos: ['void-payment', 'release-stock'],
        });
      } finally {
        await setPeerFaults(peers.paymentUrl, {});
      }
      const row = await peers.db.order.findUniqueOrThrow({ where: { id: order.orderId } });
      expect(row).toMatchObject({ status: 'COMPENSATION_FAILED', pendingUndos: ['void-payment', 'release-stock'] });
      expect(await peers.inventory.getProduct(sku)).toMatchObject({ reserved: 1 }); // left for the operator, visibly
      await record('compensation-failed', order.orderId);
      await record('compensation-failed-fused-records', order.orderId);
    });
  });
  /** The workflow's end within `realTimeMs` of real time (the test server skips workflow time meanwhile), or 'still running'. */
  async function endOf(handle: WorkflowHandle, realTimeMs = 60_000): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const stillRunning = new Promise<string>((resolve) => { timer = setTimeout(() => resolve('still running'), realTimeMs); });
    try {
      return await Promise.race([handle.result().then((r) => r, (e: unknown) => e), stillRunning]);
    } finally {
      clearTimeout(timer);
      if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate('test over: the workflow did not end');
    }
  }

  describe('operator cancellation (workflow cancel from the Web UI or CLI)', () => {
    it('during the 3-D Secure wait: undoes everything and ends CANCELLED with OPERATOR_CANCELLED', async () => {
      const sku = await product(5);
      const order = await input(sku, 2, 'tok_threeDSecure');
      const handle = await start(order);
      await untilStep(handle, (s) => s.status === 'AWAITING_PAYMENT_CONFIRMATION');
      await handle.cancel();
      expect(await endOf(handle)).toMatchObject({ status: 'CANCELLED', reasonCode: 'OPERATOR_CANCELLED' });
      expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 5, reserved: 0 });
      const payments = await peers.payment.forOrder(order.orderId);
      expect(payments.payment?.status).toBe('VOIDED');
      expect(payments.balance).toMatchObject({ capturedCents: 0, refundedCents: 0 });
      const row = await peers.db.order.findUniqueOrThrow({ where: { id: order.orderId } });
      expect(row).toMatchObject({ status: 'CANCELLED', cancelReasonCode: 'OPERATOR_CANCELLED' });
      expect(await eventTypes(order.orderId)).toEqual(['OrderPlaced', 'StockReserved', 'PaymentConfirmationRequested', 'OrderCancelled']);
      await record('operator-cancel-awaiting-confirmation', order.orderId);
      await record('operator-cancel-awaiting-confirmation-fused-records', order.orderId);
    });

    it('during a forward step (capture): lets the step finish, then refunds and releases', async () => {
      const sku = await product(5);
      const order = await input(sku, 1, 'tok_visa');
      await setPeerFaults(peers.paymentUrl, { latencyMs: 1500 });
      const handle = await start(order);
      try {
        await untilStep(handle, (s) => s.currentStep === 'capture-payment');
        await handle.cancel();
      } finally {
        await setPeerFaults(peers.paymentUrl, {});
      }
      expect(await endOf(handle)).toMatchObject({ status: 'CANCELLED', reasonCode: 'OPERATOR_CANCELLED' });
      expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 5, reserved: 0 });
      expect((await peers.payment.forOrder(order.orderId)).balance).toMatchObject({ capturedCents: 1500, refundedCents: 1500 });
      const row = await peers.db.order.findUniqueOrThrow({ where: { id: order.orderId } });
      expect(row).toMatchObject({ status: 'CANCELLED', cancelReasonCode: 'OPERATOR_CANCELLED' });
      const cancelled = await peers.db.outboxEvent.findFirstOrThrow({ where: { aggregateId: order.orderId, type: 'OrderCancelled' } });
      expect(cancelled.payload).toMatchObject({ reasonCode: 'OPERATOR_CANCELLED', refundedCents: 1500 });
      await record('operator-cancel-during-capture', order.orderId);
      await record('operator-cancel-during-capture-fused-records', order.orderId);
    });
  });

  describe('point of no return: the stock commit', () => {
    it('ignores an operator\'s cancel once the commit has started: the order ends CONFIRMED', async () => {
      const sku = await product(5);
      const order = await input(sku, 1, 'tok_visa');
      await setPeerFaults(peers.inventoryUrl, { latencyMs: 1500 });
      const handle = await start(order);
      try {
        await untilStep(handle, (s) => s.currentStep === 'commit-stock');
        await handle.cancel();
      } finally {
        await setPeerFaults(peers.inventoryUrl, {});
      }
      expect(await endOf(handle)).toEqual({ orderId: order.orderId, status: 'CONFIRMED' });
      expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 4, reserved: 0 });
      expect((await peers.payment.forOrder(order.orderId)).balance).toMatchObject({ capturedCents: 1500, refundedCents: 0 });
      expect((await peers.db.order.findUniqueOrThrow({ where: { id: order.orderId } })).status).toBe('CONFIRMED');
      await record('operator-cancel-ignored-after-commit-started', order.orderId);
    });

    it('is retried past a forward step\'s 20 attempts and never compensated: the order ends CONFIRMED', async () => {
      const sku = await product(5);
      const order = await input(sku, 1, 'tok_visa');
      await setPeerFaults(peers.paymentUrl, { latencyMs: 1500 }); // slower than a local attempt (1 s): the regular activity takes over
      const handle = await start(order);
      try {
        await untilStep(handle, (s) => s.currentStep === 'capture-payment');
        await setPeerFaults(peers.inventoryUrl, { failNextRequests: 30 }); // only the commit calls inventory from here on
      } finally {
        await setPeerFaults(peers.paymentUrl, {});
      }
      try {
        expect(await endOf(handle)).toEqual({ orderId: order.orderId, status: 'CONFIRMED' });
      } finally {
        await setPeerFaults(peers.inventoryUrl, {});
      }
      expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 4, reserved: 0 });
      expect((await peers.payment.forOrder(order.orderId)).balance).toMatchObject({ capturedCents: 1500, refundedCents: 0 });
      expect(await eventTypes(order.orderId)).toEqual(['OrderPlaced', 'StockReserved', 'PaymentAuthorized', 'PaymentCaptured', 'OrderConfirmed']);
      const history = await handle.fetchHistory();
      expect(Math.max(...history.events!.map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0))).toBe(31); // the commit's last attempt
      await record('commit-stock-retried-to-the-end', order.orderId);
      await record('commit-stock-retried-to-the-end-fused-records', order.orderId);
    });

    it('that cannot finish in 24 hours ends COMPENSATION_FAILED with commit-stock to do, and undoes nothing', async () => {
      const sku = await product(5);
      const order = await input(sku, 1, 'tok_visa');
      await setPeerFaults(peers.paymentUrl, { latencyMs: 1500 }); // slower than a local attempt (1 s): the regular activity takes over
      const handle = await start(order);
      try {
        await untilStep(handle, (s) => s.currentStep === 'capture-payment');
        await setPeerFaults(peers.inventoryUrl, { failNextRequests: 1_000_000 });
      } finally {
        await setPeerFaults(peers.paymentUrl, {});
      }
      try {
        expect(await endOf(handle)).toMatchObject({ status: 'COMPENSATION_FAILED', reasonCode: 'PROCESSING_FAILED', pendingUndos: ['commit-stock'] });
      } finally {
        await setPeerFaults(peers.inventoryUrl, {});
      }
      expect((await peers.payment.forOrder(order.orderId)).balance).toMatchObject({ capturedCents: 1500, refundedCents: 0 });
      expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 5, reserved: 1 }); // left for the operator to commit
      const row = await peers.db.order.findUniqueOrThrow({ where: { id: order.orderId } });
      expect(row).toMatchObject({ status: 'COMPENSATION_FAILED', pendingUndos: ['commit-stock'] });
      await record('commit-stock-failed-for-good', order.orderId);
    });
  });

  describe('order state that cannot be recorded', () => {
    /** Postgres refuses writes to one order's row (optionally only those setting one status), as during an outage of the orders database. */
    async function refuseOrderWrites(orderId: string, status = ''): Promise<() => Promise<void>> {
      await peers.db.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION test_refuse_order_write() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.id::text = TG_ARGV[0] AND (TG_ARGV[1] = '' OR NEW.status::text = TG_ARGV[1]) THEN
            RAISE EXCEPTION 'writes to order % refused (test outage)', NEW.id;
          END IF;
          RETURN NEW;
        END $$`);
      const trigger = `refuse_${orderId.replace(/-/g, '')}`;
      await peers.db.$executeRawUnsafe(`CREATE TRIGGER ${trigger} BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION test_refuse_order_write('${orderId}', '${status}')`);
      return async () => { await peers.db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${trigger} ON orders`); };
    }

    function expectStateNotRecorded(end: unknown, status: string) {
      expect(end).toBeInstanceOf(WorkflowFailedError);
      const cause = (end as WorkflowFailedError).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect((cause as ApplicationFailure).type).toBe('OrderStateNotRecorded');
      expect(cause!.message).toContain(status);
    }

    it('a step that succeeded but whose move could not be written: the step runs again (idempotent) and the saga writes the move itself', async () => {
      const sku = await product(5);
      const order = await input(sku, 2, 'tok_visa');
      // Postgres refuses only the first write of STOCK_RESERVED (a sequence is not rolled back with the refused write).
      const seq = `refuse_once_${order.orderId.replace(/-/g, '')}`;
      await peers.db.$executeRawUnsafe(`CREATE SEQUENCE ${seq}`);
      await peers.db.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION test_refuse_first_write() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.id::text = TG_ARGV[0] AND NEW.status::text = TG_ARGV[1] AND nextval(TG_ARGV[2]) = 1 THEN
            RAISE EXCEPTION 'first write of % to order % refused (test)', NEW.status, NEW.id;
          END IF;
          RETURN NEW;
        END $$`);
      await peers.db.$executeRawUnsafe(`CREATE TRIGGER ${seq} BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION test_refuse_first_write('${order.orderId}', 'STOCK_RESERVED', '${seq}')`);
      try {
        await expect(run(order)).resolves.toEqual({ orderId: order.orderId, status: 'CONFIRMED' });
      } finally {
        await peers.db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${seq} ON orders`);
        await peers.db.$executeRawUnsafe(`DROP SEQUENCE IF EXISTS ${seq}`);
        await peers.db.$executeRawUnsafe('DROP FUNCTION IF EXISTS test_refuse_first_write()');
      }
      expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 3, reserved: 0 });
      expect(await eventTypes(order.orderId)).toEqual(['OrderPlaced', 'StockReserved', 'PaymentAuthorized', 'PaymentCaptured', 'OrderConfirmed']);
      const { events } = await env.client.workflow.getHandle(orderWorkflowId(order.orderId)).fetchHistory();
      // The fused attempt failed; the reserve ran again as the regular activity (its key gave the same answer) and the move was written apart.
      expect(regularActivities(events)).toEqual(['reserveStock', 'commitStock']);
      expect(localActivities(events).map((a) => `${a.type}#${a.failed ? 'failed' : 'ok'}`)).toEqual([
        'recordOrderPlaced#ok', 'reserveStockRecorded#failed', 'recordOrderTransition#ok', 'authorizePaymentRecorded#ok', 'capturePaymentRecorded#ok', 'recordOrderTransition#ok',
      ]);
      await record('step-record-not-written-fused-records', order.orderId);
    });

    it('when CONFIRMED cannot be recorded for an hour: the workflow fails visibly and nothing is undone', async () => {
      const sku = await product(5);
      const order = await input(sku, 1, 'tok_visa');
      const allow = await refuseOrderWrites(order.orderId, 'CONFIRMED');
      const handle = await start(order);
      try {
        expectStateNotRecorded(await endOf(handle), 'CONFIRMED');
      } finally {
        await allow();
      }
      expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 4, reserved: 0 });
      expect((await peers.payment.forOrder(order.orderId)).balance).toMatchObject({ capturedCents: 1500, refundedCents: 0 });
      expect((await peers.db.order.findUniqueOrThrow({ where: { id: order.orderId } })).status).toBe('PAYMENT_CAPTURED');
      await record('state-not-recorded-after-commit', order.orderId);
    });

    it('when no state change can be recorded: undoes the finished steps, then fails visibly', async () => {
      const sku = await product(5);
      const order = await input(sku, 1, 'tok_visa');
      const allow = await refuseOrderWrites(order.orderId);
      const handle = await start(order);
      try {
        expectStateNotRecorded(await endOf(handle), 'CANCELLED');
      } finally {
        await allow();
      }
      expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 5, reserved: 0 });
      expect((await peers.payment.forOrder(order.orderId)).operations).toHaveLength(0);
      expect((await peers.db.order.findUniqueOrThrow({ where: { id: order.orderId } })).status).toBe('PENDING');
      await record('state-not-recorded-undone', order.orderId);
      await record('state-not-recorded-undone-local-first', order.orderId);
      await record('state-not-recorded-undone-fused-records', order.orderId);
    });
  });

  describe('what customers are told', () => {
    it('a step that failed for good gives a stable, safe reason; the failure\'s detail stays with operators', async () => {
      // Inventory refuses the request with a validation problem: an answer our contract with it does not expect.
      const order = await input('not a valid sku!', 1, 'tok_visa');
      const safeReason = 'We could not process your order';
      await expect(run(order)).resolves.toEqual({ orderId: order.orderId, status: 'CANCELLED', reasonCode: 'PROCESSING_FAILED', reason: safeReason });
      const row = await peers.db.order.findUniqueOrThrow({ where: { id: order.orderId } });
      expect(row).toMatchObject({ status: 'CANCELLED', cancelReasonCode: 'PROCESSING_FAILED', cancelReason: safeReason });
      const cancelled = await peers.db.outboxEvent.findFirstOrThrow({ where: { aggregateId: order.orderId, type: 'OrderCancelled' } });
      expect(cancelled.payload).toMatchObject({ reasonCode: 'PROCESSING_FAILED', reason: safeReason });
      // Operators find the detail in the workflow's current details (Web UI) and log.
      const metadata = await env.client.workflow.getHandle(orderWorkflowId(order.orderId)).query<{ currentDetails: string }>('__temporal_workflow_metadata');
      expect(metadata.currentDetails).toMatch(/reserveStock.*inventory answered 400/);
      await record('processing-failed-safe-reason', order.orderId);
      await record('processing-failed-safe-reason-local-first', order.orderId);
      await record('processing-failed-safe-reason-fused-records', order.orderId);
    });
  });
});
