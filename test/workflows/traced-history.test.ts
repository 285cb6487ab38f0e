import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { storeOrderSecrets } from '../../common/order-vault';
import {
  cancelOrderUpdate, orderStatusQuery, orderWorkflowId, orderWorkflowStartOptions, paymentConfirmationSignal, type OrderWorkflowInput,
} from '../../common/order/workflow-contract';
import { orderWorkflow } from '../../workflows';
import { workflowSpanSinks } from '../../workers/temporal-worker';
import { workflowInterceptorModules } from '../../workers/workflow-bundle';
import { cleanUp } from '../harness/clean-up';
import { startOrderWorker } from '../harness/order-worker';
import { maybeRecordHistory } from '../harness/histories';
import { peerHeaders, startPeers, waitFor, type Peers } from '../harness/system';
import { createTimeSkippingEnv } from '../harness/temporal';

/** The header OpenTelemetry's workflow interceptors put on every activity a traced workflow schedules. */
const TRACE_HEADER = '_tracer-data';

/**
 * Orders run by a worker with tracing on (OpenTelemetry's workflow interceptors in its bundle), as
 * production orders in flight were recorded. Their histories go to test/replay, which replays them
 * with tracing off too: the direction a deploy that turns tracing off meets.
 */
describe('order workflow with tracing on', () => {
  let env: TestWorkflowEnvironment;
  let peers: Peers;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `wf-traced-${randomUUID()}`;

  beforeAll(async () => {
    [env, peers] = await Promise.all([createTimeSkippingEnv(), startPeers()]);
    ({ worker, running } = await startOrderWorker(env, peers, taskQueue, {
      interceptors: { workflowModules: workflowInterceptorModules(true) }, sinks: workflowSpanSinks(),
    }));
  });

  afterAll(() => cleanUp(
    () => worker?.shutdown(),
    () => running,
    () => env?.teardown(),
    () => peers?.stop(),
  ));

  async function start(stock: number): Promise<{ handle: Awaited<ReturnType<TestWorkflowEnvironment['client']['workflow']['start']>>; order: OrderWorkflowInput }> {
    const sku = `SKU-${randomUUID().slice(0, 8)}`;
    await peers.inventory.upsertProduct(sku, { name: 'Test product', priceCents: 1500, stock });
    const orderId = randomUUID();
    await storeOrderSecrets(peers.pool, { orderId, clientId: 'test-shop', customerId: 'cust-t', customerEmail: 'traced@shop.example', paymentToken: 'tok_threeDSecure' });
    const order: OrderWorkflowInput = {
      orderId, customerId: 'cust-t', currency: 'EUR', lines: [{ sku, quantity: 1, unitPriceCents: 1500 }], totalCents: 1500, correlationId: randomUUID(),
    };
    const handle = await env.client.workflow.start(orderWorkflow, orderWorkflowStartOptions(order, taskQueue));
    await waitFor('the saga to wait for the payment confirmation', async () =>
      (await handle.query(orderStatusQuery)).status === 'AWAITING_PAYMENT_CONFIRMATION' || undefined, 30_000, 50);
    return { handle, order };
  }

  async function tracedActivities(orderId: string): Promise<number> {
    const { events } = await env.client.workflow.getHandle(orderWorkflowId(orderId)).fetchHistory();
    return (events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.header?.fields?.[TRACE_HEADER]).length;
  }

  it('confirms a 3-D Secure order after its signal; the history carries the trace header', async () => {
    const { handle, order } = await start(5);
    // The customer passes the challenge at the payment provider, which then tells us (the webhook's job).
    const challenge = await fetch(`${peers.paymentUrl}/test/3ds/${order.orderId}`, { method: 'POST', headers: peerHeaders(), body: JSON.stringify({ outcome: 'complete' }) });
    expect(challenge.status).toBe(200);
    await handle.signal(paymentConfirmationSignal, { outcome: 'confirmed', eventId: 'evt-t1' });
    await expect(handle.result()).resolves.toMatchObject({ status: 'CONFIRMED' });
    expect(await tracedActivities(order.orderId)).toBeGreaterThan(0);
    await maybeRecordHistory('traced-payment-confirmed', handle);
  });

  it('cancels an order waiting for its confirmation through the customer\'s update', async () => {
    const { handle, order } = await start(5);
    await expect(handle.executeUpdate(cancelOrderUpdate)).resolves.toMatchObject({ status: 'CANCELLED', reasonCode: 'CUSTOMER_CANCELLED' });
    expect(await peers.inventory.getProduct(order.lines[0]!.sku)).toMatchObject({ stock: 5, reserved: 0 });
    await maybeRecordHistory('traced-customer-cancel-awaiting-confirmation', handle);
  });
});
