import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { type OrderWorkflowInput } from '../../common/order';
import { orderWorkflowStartOptions } from '../../common/order-workflow';
import { orderWorkflow } from '../../workflows';
import { WORKFLOWS_PATH } from '../../workers/temporal-worker';
import { startPeers, type Peers } from '../harness/system';
import { createTimeSkippingEnv } from '../harness/temporal';

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
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities: createActivities({ db: peers.db, inventory: peers.inventory, payment: peers.payment }),
    });
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
    await peers?.stop();
  });

  async function product(stock: number, priceCents = 1500): Promise<string> {
    const sku = `SKU-${randomUUID().slice(0, 8)}`;
    await peers.inventory.upsertProduct(sku, { name: 'Test product', priceCents, stock });
    return sku;
  }

  function input(sku: string, quantity: number, token: string, unitPriceCents = 1500): OrderWorkflowInput {
    return {
      orderId: randomUUID(), customerId: 'cust-1', customerEmail: 'buyer@shop.example', currency: 'EUR',
      lines: [{ sku, quantity, unitPriceCents }], totalCents: quantity * unitPriceCents, paymentToken: token, correlationId: randomUUID(),
    };
  }

  async function run(i: OrderWorkflowInput) {
    return env.client.workflow.execute(orderWorkflow, orderWorkflowStartOptions(i, taskQueue));
  }

  async function eventTypes(orderId: string): Promise<string[]> {
    const rows = await peers.db.outboxEvent.findMany({ where: { aggregateId: orderId }, orderBy: { sequence: 'asc' } });
    return rows.map((r) => r.type);
  }

  it('confirms an order: stock committed, payment captured, one event per state change', async () => {
    const sku = await product(10);
    const order = input(sku, 3, 'tok_visa');
    await expect(run(order)).resolves.toEqual({ orderId: order.orderId, status: 'CONFIRMED' });

    expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 7, reserved: 0, available: 7 });
    const { balance } = await peers.payment.forOrder(order.orderId);
    expect(balance).toMatchObject({ authorizedCents: 4500, capturedCents: 4500, voidedCents: 0, refundedCents: 0 });
    const row = await peers.db.order.findUniqueOrThrow({ where: { id: order.orderId } });
    expect(row.status).toBe('CONFIRMED');
    expect(await eventTypes(order.orderId)).toEqual(['OrderPlaced', 'StockReserved', 'PaymentAuthorized', 'PaymentCaptured', 'OrderConfirmed']);
  });

  it('cancels an order that is out of stock, reserving and charging nothing', async () => {
    const sku = await product(2);
    const order = input(sku, 5, 'tok_visa');
    const outcome = await run(order);
    expect(outcome).toMatchObject({ status: 'CANCELLED', reasonCode: 'OUT_OF_STOCK' });

    expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 2, reserved: 0 });
    const payments = await peers.payment.forOrder(order.orderId);
    expect(payments.operations).toHaveLength(0);
    const row = await peers.db.order.findUniqueOrThrow({ where: { id: order.orderId } });
    expect(row).toMatchObject({ status: 'CANCELLED', cancelReasonCode: 'OUT_OF_STOCK' });
    expect(await eventTypes(order.orderId)).toEqual(['OrderPlaced', 'OrderCancelled']);
  });

  it('cancels an order whose card is declined and releases its stock', async () => {
    const sku = await product(4);
    const order = input(sku, 2, 'tok_chargeDeclined');
    const outcome = await run(order);
    expect(outcome).toMatchObject({ status: 'CANCELLED', reasonCode: 'PAYMENT_DECLINED' });

    expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 4, reserved: 0, available: 4 });
    const payments = await peers.payment.forOrder(order.orderId);
    expect(payments.balance).toMatchObject({ capturedCents: 0, refundedCents: 0 });
    expect(payments.operations.map((o) => [o.kind, o.outcome])).toEqual([['authorize', 'declined']]);
    expect(await eventTypes(order.orderId)).toEqual(['OrderPlaced', 'StockReserved', 'OrderCancelled']);
  });

  it('never starts a second saga for the same order id', async () => {
    const sku = await product(10);
    const order = input(sku, 1, 'tok_visa');
    await run(order);
    await expect(env.client.workflow.start(orderWorkflow, orderWorkflowStartOptions(order, taskQueue)))
      .rejects.toThrow(/already/i);
    expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock: 9 });
  });
});
