import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type { OrderInspection, WorkflowView } from '../../common/inspection/inspection';
import type { StuckOrder } from '../../common/inspection/stuck';
import { orderWorkflowId } from '../../common/order/workflow-contract';
import { temporalDataConverter } from '../../common/temporal-connection';
import { startFullSystem, type FullSystem } from '../harness/full-system';
import { TEST_CALLERS, waitFor } from '../harness/system';
import { cleanUp } from '../harness/clean-up';

/**
 * The order inspection with real parts: every process of ours, Postgres, Temporal, NATS, the
 * peers and SMTP (test/harness/full-system.ts). The operator endpoints answer what
 * `npm run ops -- inspect` prints (run here as a child process, as an operator would).
 */
describe('inspecting orders (ops inspect, ops stuck, GET /operator/...)', () => {
  let system: FullSystem;
  let temporal: { connection: Connection; client: Client };
  const customer = { customerId: 'inspect-1', customerEmail: 'jane@shop.example', currency: 'EUR' };
  const auth = (key: string) => ({ authorization: `Bearer ${key}` });

  beforeAll(async () => {
    system = await startFullSystem();
    await system.peers.inventory.upsertProduct('INSPECT-MUG', { name: 'Mug', priceCents: 1200, stock: 50 });
    const connection = await Connection.connect({ address: system.config.TEMPORAL_ADDRESS });
    temporal = { connection, client: new Client({ connection, namespace: system.config.TEMPORAL_NAMESPACE, dataConverter: temporalDataConverter(system.config) }) };
  });

  afterAll(() => cleanUp(
    () => temporal?.connection.close(),
    () => system?.stop(),
  ));

  async function place(token: string, correlationId?: string): Promise<string> {
    const res = await fetch(`${system.apiUrl}/orders`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...auth(system.shopKey), ...(correlationId ? { 'x-correlation-id': correlationId } : {}) },
      body: JSON.stringify({ ...customer, items: [{ sku: 'INSPECT-MUG', quantity: 1 }], payment: { token } }),
    });
    expect(res.status).toBe(202);
    return ((await res.json()) as { orderId: string }).orderId;
  }

  const statusOf = async (orderId: string) => ((await (await fetch(`${system.apiUrl}/orders/${orderId}`, { headers: auth(system.shopKey) })).json()) as { status: string }).status;
  const untilStatus = (orderId: string, status: string) => waitFor(`order ${orderId} to be ${status}`, async () => (await statusOf(orderId)) === status);

  async function inspection(orderId: string): Promise<OrderInspection> {
    const res = await fetch(`${system.apiUrl}/operator/orders/${orderId}/inspection`, { headers: auth(system.operatorKey) });
    expect(res.status).toBe(200);
    return (await res.json()) as OrderInspection;
  }

  /** `npm run ops -- <args>` as a child process, with the operator's settings (the tools caller for the peers). */
  function ops(...args: string[]) {
    const { config } = system;
    const env = {
      ...process.env, DATABASE_URL: config.DATABASE_URL, TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
      NATS_URL: config.NATS_URL, EVENTS_STREAM: config.EVENTS_STREAM, EVENTS_SUBJECT_PREFIX: config.EVENTS_SUBJECT_PREFIX,
      INVENTORY_URL: config.INVENTORY_URL, PAYMENT_URL: config.PAYMENT_URL, INVENTORY_TOKEN: TEST_CALLERS.tools, PAYMENT_TOKEN: TEST_CALLERS.tools,
    };
    return promisify(execFile)(process.execPath, [require.resolve('tsx/cli'), join(__dirname, '../../scripts/ops/index.ts'), ...args], { env });
  }

  it('shows a confirmed order handled everywhere, and "all done"', async () => {
    const orderId = await place('tok_visa', 'inspect-corr-1');
    await untilStatus(orderId, 'CONFIRMED');
    const done = await waitFor('the inspection to say all done', async () => {
      const i = await inspection(orderId);
      return i.diagnosis.rule === 'all-done' ? i : undefined;
    });
    expect(done.diagnosis.text).toBe('all done: CONFIRMED, email sent, every event published and handled');
    expect(done.order).toMatchObject({ status: 'CONFIRMED', correlationId: 'inspect-corr-1', totalCents: 1200 });
    expect(done.transitions.map((t) => t.event)).toEqual(['OrderPlaced', 'StockReserved', 'PaymentAuthorized', 'PaymentCaptured', 'OrderConfirmed']);
    expect(done.outbox.every((e) => e.publishedAt !== null)).toBe(true);
    expect(done.workflow).toMatchObject({ status: 'COMPLETED', workflowId: orderWorkflowId(orderId), pendingActivities: [] });
    expect(done.stream).toMatchObject({ notFound: [] });
    expect((done.stream as { messages: unknown[] }).messages).toHaveLength(5);
    expect(done.inboxes.length).toBeGreaterThanOrEqual(6); // analytics: all five; email: OrderConfirmed
    expect(done.inboxes.every((i) => i.handled && i.handledAt)).toBe(true);
    expect(done.deadLetters).toEqual([]);
    expect(done.emails).toEqual([expect.objectContaining({ status: 'SENT', attempts: 1 })]);
    expect(done.payment).toMatchObject({ status: 'CAPTURED', amountCents: 1200 });
    expect(done.inventory).toMatchObject({ status: 'COMMITTED', lines: [{ sku: 'INSPECT-MUG', quantity: 1 }] });
    expect(JSON.stringify(done)).not.toContain('jane@shop.example');
  });

  it('answers 401 without a key, 403 with a shop key, 404 for an unknown order, 400 for a bad id or threshold', async () => {
    const unknown = '7f0c2a9e-3a1b-4c5d-9e8f-0123456789ab';
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${system.apiUrl}${path}`, { headers });
    const noKey = await get(`/operator/orders/${unknown}/inspection`);
    expect([noKey.status, noKey.headers.get('content-type')]).toEqual([401, expect.stringContaining('application/problem+json')]);
    expect((await get(`/operator/orders/${unknown}/inspection`, auth(system.shopKey))).status).toBe(403);
    expect((await get('/operator/stuck', auth(system.shopKey))).status).toBe(403);
    const missing = await get(`/operator/orders/${unknown}/inspection`, auth(system.operatorKey));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ type: expect.stringMatching(/order-not-found$/), status: 404 });
    expect((await get('/operator/orders/not-a-uuid/inspection', auth(system.operatorKey))).status).toBe(400);
    expect((await get('/operator/stuck?olderThan=soon', auth(system.operatorKey))).status).toBe(400);
  });

  it('lists an order waiting for 3-D Secure as stuck past the threshold, with its deadline, and names what a terminate left behind', async () => {
    const orderId = await place('tok_threeDSecure');
    await untilStatus(orderId, 'AWAITING_PAYMENT_CONFIRMATION');
    await new Promise((r) => setTimeout(r, 1_100));
    const res = await fetch(`${system.apiUrl}/operator/stuck?olderThan=1s`, { headers: auth(system.operatorKey) });
    expect(res.status).toBe(200);
    const { stuck } = (await res.json()) as { stuck: StuckOrder[] };
    const entry = stuck.find((s) => s.orderId === orderId);
    expect(entry).toMatchObject({
      status: 'AWAITING_PAYMENT_CONFIRMATION', why: 'not terminal past the threshold', inspectionUrl: `/operator/orders/${orderId}/inspection`,
      temporalUiUrl: expect.stringContaining(`/workflows/${orderWorkflowId(orderId)}`),
    });
    expect(entry!.diagnosis).toMatch(/^waiting for payment confirmation until \d\d:\d\d UTC$/);
    const waiting = await inspection(orderId);
    const workflow = waiting.workflow as WorkflowView;
    expect(workflow.liveState).toMatchObject({ status: 'AWAITING_PAYMENT_CONFIRMATION', paymentConfirmationDeadline: expect.any(String) });
    expect(workflow.timers.length).toBeGreaterThanOrEqual(1);

    await temporal.client.workflow.getHandle(orderWorkflowId(orderId)).terminate('inspection test');
    const terminated = await inspection(orderId);
    expect(terminated.diagnosis.rule).toBe('workflow-terminated');
    expect(terminated.diagnosis.text).toMatch(/^workflow terminated by an operator \(inspection test, by .+\): stock still reserved, payment requires confirmation; undo by hand: /);
    expect(terminated.diagnosis.text).toContain(`/reservations/${orderId}/release`);
    const stuckNow = JSON.parse((await ops('stuck', '--older-than', '1s', '--json')).stdout) as StuckOrder[];
    expect(stuckNow.find((s) => s.orderId === orderId)).toMatchObject({ why: 'workflow TERMINATED, row not terminal' });
  });

  it('says the worker is down when nobody picks up the workflow task, and that the status query fails', async () => {
    await system.stopProcess('worker');
    const orderId = await place('tok_visa');
    await new Promise((r) => setTimeout(r, 16_000)); // the rule's grace period (15 s)
    const down = await inspection(orderId);
    expect(down.order).toBeNull(); // the worker records the order: nothing yet
    expect(down.workflow).toMatchObject({ status: 'RUNNING', pendingWorkflowTask: { state: 'SCHEDULED' }, liveState: { unreadable: expect.stringMatching(/^status query failed/) } });
    expect(down.diagnosis).toMatchObject({ rule: 'worker-down', text: expect.stringMatching(/^worker down: workflow task not picked up for \d+ s$/) });

    await system.restart('worker');
    await untilStatus(orderId, 'CONFIRMED');
  }, 90_000);

  it('says the relay is down, with the number of unpublished events, and all done once it is back', async () => {
    await system.stopProcess('relay');
    const orderId = await place('tok_visa');
    await untilStatus(orderId, 'CONFIRMED');
    const unpublished = await system.peers.db.outboxEvent.count({ where: { aggregateId: orderId, publishedAt: null } });
    expect(unpublished).toBe(5);
    const first = await system.peers.db.outboxEvent.findFirstOrThrow({ where: { aggregateId: orderId }, orderBy: { sequence: 'asc' } });
    // The rule waits 15 s before calling unpublished events an outage (the relay publishes within a second when up).
    await new Promise((r) => setTimeout(r, Math.max(0, first.occurredAt.getTime() + 16_000 - Date.now())));

    const printed = (await ops('inspect', orderId)).stdout;
    expect(printed).toMatch(/diagnosis: +relay down: 5 events unpublished for \d+ s/);
    expect(printed).toContain('NOT published');
    const json = JSON.parse((await ops('inspect', orderId, '--json')).stdout) as OrderInspection;
    expect(json.diagnosis).toMatchObject({ rule: 'relay-down', text: expect.stringMatching(/^relay down: 5 events unpublished for/) });
    expect((await inspection(orderId)).diagnosis.rule).toBe('relay-down');

    await system.restart('relay');
    await waitFor('all done after the relay is back', async () => (await inspection(orderId)).diagnosis.rule === 'all-done', 60_000);
  }, 120_000);
});
