import { randomUUID } from 'node:crypto';
import { signWebhook } from '../../common/webhook-signature';
import { startFullSystem, type FullSystem } from '../harness/full-system';
import { peerHeaders, waitFor } from '../harness/system';

/**
 * The saga's paths driven over REST against every real process, with a short payment
 * confirmation deadline, checking each order's end and the peers' own records afterwards.
 */
describe('the saga over REST', () => {
  let sys: FullSystem;
  const customer = { customerId: 'cust-rest', customerEmail: 'rest@shop.example', currency: 'EUR' };

  beforeAll(async () => {
    sys = await startFullSystem({ PAYMENT_CONFIRMATION_TIMEOUT: '3s', PAYMENT_WEBHOOK_SECRET_PREVIOUS: 'test-webhook-previous-secret' });
  });
  afterAll(() => sys?.stop());

  async function product(stock: number, priceCents = 1000): Promise<string> {
    const sku = `REST-${randomUUID().slice(0, 8)}`;
    await sys.peers.inventory.upsertProduct(sku, { name: sku, priceCents, stock });
    return sku;
  }

  /** The harness's shop key, as every request of this file but those of "another-shop" sends it. */
  const auth = (key = sys.shopKey) => ({ authorization: `Bearer ${key}` });

  function post(path: string, body?: unknown, headers: Record<string, string> = {}) {
    return fetch(`${sys.apiUrl}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...auth(), ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  async function place(sku: string, quantity: number, token: string, headers: Record<string, string> = {}): Promise<string> {
    const res = await post('/orders', { ...customer, items: [{ sku, quantity }], payment: { token } }, headers);
    expect(res.status).toBe(202);
    return ((await res.json()) as { orderId: string }).orderId;
  }

  async function order(orderId: string, key?: string) {
    return (await (await fetch(`${sys.apiUrl}/orders/${orderId}`, { headers: auth(key) })).json()) as Record<string, unknown> & { status: string; saga?: { currentStep: string | null } };
  }

  const finished = (orderId: string, timeoutMs = 30_000, key?: string) =>
    waitFor(`order ${orderId} to finish`, async () => { const o = await order(orderId, key); return o.terminal ? o : undefined; }, timeoutMs);

  it('3-D Secure: the customer completes the challenge, the webhook confirms the order', async () => {
    const sku = await product(5);
    const orderId = await place(sku, 2, 'tok_threeDSecure');
    const waiting = await waitFor('the order to wait for confirmation', async () => { const o = await order(orderId); return o.status === 'AWAITING_PAYMENT_CONFIRMATION' ? o : undefined; });
    expect(waiting.saga).toMatchObject({ currentStep: 'await-payment-confirmation' });
    const challenge = await fetch(`${sys.peers.paymentUrl}/test/3ds/${orderId}`, { method: 'POST', headers: peerHeaders(), body: JSON.stringify({ outcome: 'complete' }) });
    expect(challenge.status).toBe(200);
    expect(await finished(orderId)).toMatchObject({ status: 'CONFIRMED' });
    expect(await sys.peers.inventory.getProduct(sku)).toMatchObject({ stock: 3, reserved: 0 });
    expect((await sys.peers.payment.forOrder(orderId)).balance).toMatchObject({ authorizedCents: 2000, capturedCents: 2000, refundedCents: 0 });
    expect(await sys.peers.db.paymentWebhookEvent.count({ where: { orderId } })).toBe(1);
  });

  it('3-D Secure: past the configured deadline the order is cancelled and everything undone', async () => {
    const sku = await product(5);
    const orderId = await place(sku, 1, 'tok_threeDSecure');
    expect(await finished(orderId)).toMatchObject({ status: 'CANCELLED', reasonCode: 'PAYMENT_CONFIRMATION_TIMEOUT' });
    expect(await sys.peers.inventory.getProduct(sku)).toMatchObject({ stock: 5, reserved: 0 });
    const payments = await sys.peers.payment.forOrder(orderId);
    expect(payments.payment?.status).toBe('VOIDED');
    expect(payments.balance).toMatchObject({ capturedCents: 0 });
  });

  it('refuses a webhook with a bad signature and changes nothing', async () => {
    const sku = await product(5);
    const orderId = await place(sku, 1, 'tok_threeDSecure');
    await waitFor('the order to wait for confirmation', async () => (await order(orderId)).status === 'AWAITING_PAYMENT_CONFIRMATION');
    const body = JSON.stringify({ id: randomUUID(), type: 'payment.confirmed', orderId, paymentId: 'x' });
    const forged = await post('/webhooks/payments', undefined, {});
    expect(forged.status).toBe(401);
    const wrongSecret = await fetch(`${sys.apiUrl}/webhooks/payments`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'payment-signature': signWebhook('not-the-secret', Math.floor(Date.now() / 1000), body) }, body,
    });
    expect(wrongSecret.status).toBe(401);
    expect(wrongSecret.headers.get('content-type')).toMatch(/problem\+json/);
    const stale = await fetch(`${sys.apiUrl}/webhooks/payments`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'payment-signature': signWebhook('test-webhook-secret', Math.floor(Date.now() / 1000) - 3600, body) }, body,
    });
    expect(stale.status).toBe(401);
    expect(await sys.peers.db.paymentWebhookEvent.count({ where: { orderId } })).toBe(0);
    expect(await finished(orderId)).toMatchObject({ status: 'CANCELLED', reasonCode: 'PAYMENT_CONFIRMATION_TIMEOUT' });
  });

  it('during a secret rotation: a webhook signed with the previous secret is applied, one signed with neither is refused', async () => {
    const sku = await product(5);
    const orderId = await place(sku, 1, 'tok_threeDSecure');
    await waitFor('the order to wait for confirmation', async () => (await order(orderId)).status === 'AWAITING_PAYMENT_CONFIRMATION');
    const send = (secret: string) => {
      const body = JSON.stringify({ id: randomUUID(), type: 'payment.failed', orderId, paymentId: 'x' });
      return fetch(`${sys.apiUrl}/webhooks/payments`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'payment-signature': signWebhook(secret, Math.floor(Date.now() / 1000), body) }, body,
      });
    };
    expect((await send('neither-current-nor-previous')).status).toBe(401);
    expect(await sys.peers.db.paymentWebhookEvent.count({ where: { orderId } })).toBe(0);
    const previous = await send('test-webhook-previous-secret');
    expect(previous.status).toBe(200);
    expect(await previous.json()).toMatchObject({ received: true, applied: true });
    expect(await finished(orderId)).toMatchObject({ status: 'CANCELLED', reasonCode: 'PAYMENT_DECLINED' });
  });

  it('customer cancel while waiting: 202 accepted with the Location to follow, then CANCELLED, voided and released; a second cancel gives 202 CANCELLED', async () => {
    const sku = await product(5);
    const orderId = await place(sku, 2, 'tok_threeDSecure');
    await waitFor('the order to wait for confirmation', async () => (await order(orderId)).status === 'AWAITING_PAYMENT_CONFIRMATION');
    const res = await post(`/orders/${orderId}/cancel`);
    expect(res.status).toBe(202);
    // The answer comes once the cancel is accepted, not after the undos: the Location tells how it ends.
    expect(res.headers.get('location')).toBe(`/orders/${orderId}`);
    expect(await res.json()).toMatchObject({ orderId, cancelRequested: true });
    expect(await finished(orderId)).toMatchObject({ status: 'CANCELLED', reasonCode: 'CUSTOMER_CANCELLED' });
    const again = await post(`/orders/${orderId}/cancel`);
    expect(again.status).toBe(202);
    expect(await again.json()).toMatchObject({ status: 'CANCELLED', reasonCode: 'CUSTOMER_CANCELLED' });
    expect(await sys.peers.inventory.getProduct(sku)).toMatchObject({ stock: 5, reserved: 0 });
    expect((await sys.peers.payment.forOrder(orderId)).payment?.status).toBe('VOIDED');
  });

  it('customer cancel after confirmation: 409 with the reason, nothing changes', async () => {
    const sku = await product(5);
    const orderId = await place(sku, 1, 'tok_visa');
    await finished(orderId);
    const res = await post(`/orders/${orderId}/cancel`);
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    expect(await res.json()).toMatchObject({ orderStatus: 'CONFIRMED', detail: expect.stringMatching(/can no longer be cancelled/) });
    expect((await sys.peers.payment.forOrder(orderId)).balance).toMatchObject({ capturedCents: 1000, refundedCents: 0 });
    expect((await post(`/orders/${randomUUID()}/cancel`)).status).toBe(404);
  });

  it('Idempotency-Key: twenty identical concurrent POSTs make one order; a retry replays it; another body is 422', async () => {
    const sku = await product(50);
    const key = randomUUID();
    const body = { ...customer, items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' } };
    const before = await sys.peers.db.order.count();
    const answers = await Promise.all(Array.from({ length: 20 }, () => post('/orders', body, { 'idempotency-key': key })));
    const statuses = answers.map((r) => r.status);
    expect(statuses.every((s) => s === 202 || s === 409)).toBe(true);
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(1);
    const ids = new Set(await Promise.all(answers.filter((r) => r.status === 202).map(async (r) => ((await r.json()) as { orderId: string }).orderId)));
    expect(ids.size).toBe(1);
    const [orderId] = [...ids] as [string];

    const retry = await post('/orders', body, { 'idempotency-key': key });
    expect(retry.status).toBe(202);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('location')).toBe(`/orders/${orderId}`);
    expect(((await retry.json()) as { orderId: string }).orderId).toBe(orderId);

    const other = await post('/orders', { ...body, items: [{ sku, quantity: 2 }] }, { 'idempotency-key': key });
    expect(other.status).toBe(422);
    const anotherShop = await sys.createApiKey('another-shop');
    const otherClient = await post('/orders', body, { 'idempotency-key': key, ...auth(anotherShop) });
    expect(otherClient.status).toBe(202); // keys are scoped per authenticated client
    const otherOrderId = ((await otherClient.json()) as { orderId: string }).orderId;
    expect(otherOrderId).not.toBe(orderId);

    await Promise.all([finished(orderId), finished(otherOrderId, 30_000, anotherShop)]);
    expect(await sys.peers.db.order.count()).toBe(before + 2);
    expect(await sys.peers.inventory.getProduct(sku)).toMatchObject({ stock: 48, reserved: 0 });
  });

  it('lists orders by status and customer with cursor pagination', async () => {
    const customerId = `list-${randomUUID().slice(0, 8)}`;
    const sku = await product(20);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await post('/orders', { ...customer, customerId, items: [{ sku, quantity: 1 }], payment: { token: i === 0 ? 'tok_chargeDeclined' : 'tok_visa' } });
      ids.push(((await res.json()) as { orderId: string }).orderId);
    }
    await Promise.all(ids.map((id) => finished(id)));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Response = await fetch(`${sys.apiUrl}/orders?customerId=${customerId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { headers: auth() });
      const page = (await res.json()) as { items: { orderId: string }[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((o) => o.orderId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual([...ids].sort());
    const cancelled = (await (await fetch(`${sys.apiUrl}/orders?customerId=${customerId}&status=CANCELLED`, { headers: auth() })).json()) as { items: { orderId: string; reasonCode: string }[] };
    expect(cancelled.items).toEqual([expect.objectContaining({ orderId: ids[0], reasonCode: 'PAYMENT_DECLINED' })]);
    expect((await fetch(`${sys.apiUrl}/orders?status=NOPE`, { headers: auth() })).status).toBe(400);
    expect((await fetch(`${sys.apiUrl}/orders?cursor=garbage`, { headers: auth() })).status).toBe(422);
  });
});
