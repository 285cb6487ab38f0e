import type { Config } from '../../common/config';
import { messageIdFor } from '../../workers/email-templates';
import { startFullSystem, type FullSystem } from '../harness/full-system';
import { readStream } from '../harness/pipeline';
import { waitFor, type Peers } from '../harness/system';

/**
 * End to end over REST: the API, the Temporal worker (on a real Temporal dev server), the outbox
 * relay, the email and analytics consumers, real inventory and payment services, Postgres,
 * NATS JetStream and an SMTP server, all real, started here in this process.
 */
describe('an order end to end', () => {
  let system: FullSystem;
  let peers: Peers;
  let smtp: FullSystem['smtp'];
  let config: Config;
  let api: { url: string };
  /** The Authorization header of the harness's shop, or of another key. */
  let auth: (key?: string) => { authorization: string };

  beforeAll(async () => {
    system = await startFullSystem();
    ({ peers, smtp, config } = system);
    api = { url: system.apiUrl };
    auth = (key = system.shopKey) => ({ authorization: `Bearer ${key}` });
  });

  afterAll(() => system?.stop());

  async function product(sku: string, stock: number, priceCents: number) {
    await peers.inventory.upsertProduct(sku, { name: sku, priceCents, stock });
  }

  async function placeOrder(body: unknown, headers: Record<string, string> = {}) {
    return fetch(`${api.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth(), ...headers }, body: JSON.stringify(body) });
  }

  async function orderUntilTerminal(orderId: string) {
    return waitFor(`order ${orderId} to finish`, async () => {
      const res = await fetch(`${api.url}/orders/${orderId}`, { headers: auth() });
      const body = (await res.json()) as { status: string; terminal?: boolean };
      return body.terminal ? body : undefined;
    });
  }

  async function streamSubjectsFor(orderId: string): Promise<string[]> {
    return (await readStream(config)).filter((m) => m.event.orderId === orderId).map((m) => m.event.type);
  }


  const customer = { customerId: 'cust-42', customerEmail: 'jane@shop.example', currency: 'EUR' };

  it('confirms an order: events in JetStream, one email sent, analytics updated', async () => {
    await product('E2E-MUG', 5, 1250);
    const res = await placeOrder({ ...customer, items: [{ sku: 'E2E-MUG', quantity: 2 }], payment: { token: 'tok_visa' } }, { 'x-correlation-id': 'checkout-123' });
    expect(res.status).toBe(202);
    const created = (await res.json()) as { orderId: string; status: string; totalCents: number };
    expect(created).toMatchObject({ status: 'PENDING', totalCents: 2500 });
    expect(res.headers.get('location')).toBe(`/orders/${created.orderId}`);

    const order = await orderUntilTerminal(created.orderId);
    expect(order).toMatchObject({ orderId: created.orderId, status: 'CONFIRMED', totalCents: 2500, correlationId: 'checkout-123', items: [{ sku: 'E2E-MUG', quantity: 2, unitPriceCents: 1250 }] });
    expect(await peers.inventory.getProduct('E2E-MUG')).toMatchObject({ stock: 3, reserved: 0 });
    expect((await peers.payment.forOrder(created.orderId)).balance).toMatchObject({ capturedCents: 2500 });

    await waitFor('all events in JetStream', async () => (await streamSubjectsFor(created.orderId)).length === 5);
    expect(await streamSubjectsFor(created.orderId)).toEqual(['OrderPlaced', 'StockReserved', 'PaymentAuthorized', 'PaymentCaptured', 'OrderConfirmed']);
    const events = await peers.db.outboxEvent.findMany({ where: { aggregateId: created.orderId } });
    expect(events.every((e) => e.correlationId === 'checkout-123' && e.publishedAt)).toBe(true);

    // The address is in the order store only: no event carries it (the email consumer reads it from there).
    expect(JSON.stringify(events.map((e) => e.payload))).not.toContain('jane@shop.example');
    const confirmedEvent = events.find((e) => e.type === 'OrderConfirmed')!;
    const mail = await waitFor('the confirmation email', async () => smtp.received.find((m) => m.messageId === messageIdFor(confirmedEvent.id)));
    expect(mail.to).toEqual(['jane@shop.example']);
    expect(mail.subject).toMatch(/confirmed/);

    const summary = await waitFor('analytics to count the order', async () => {
      const s = (await (await fetch(`${api.url}/analytics/summary`, { headers: auth(system.operatorKey) })).json()) as { byStatus: { status: string; orders: number; amountCents: number }[] };
      return s.byStatus.find((g) => g.status === 'CONFIRMED') ? s : undefined;
    });
    expect(summary.byStatus).toContainEqual({ status: 'CONFIRMED', currency: 'EUR', orders: 1, amountCents: 2500 });
  });

  it('cancels an order whose card is declined, puts the stock back and tells the customer why', async () => {
    await product('E2E-LAMP', 4, 4000);
    const res = await placeOrder({ ...customer, items: [{ sku: 'E2E-LAMP', quantity: 1 }], payment: { token: 'tok_chargeDeclined' } });
    expect(res.status).toBe(202);
    const { orderId } = (await res.json()) as { orderId: string };

    const order = await orderUntilTerminal(orderId);
    expect(order).toMatchObject({ status: 'CANCELLED', reasonCode: 'PAYMENT_DECLINED' });
    expect(await peers.inventory.getProduct('E2E-LAMP')).toMatchObject({ stock: 4, reserved: 0, available: 4 });
    expect((await peers.payment.forOrder(orderId)).balance).toMatchObject({ capturedCents: 0 });

    const cancelled = await waitFor('the OrderCancelled event', () => peers.db.outboxEvent.findFirst({ where: { aggregateId: orderId, type: 'OrderCancelled' } }));
    const mail = await waitFor('the cancellation email', async () => smtp.received.find((m) => m.messageId === messageIdFor(cancelled.id)));
    expect(mail.raw).toMatch(/declined/i);
  });

  it('rejects bad input with problem+json and writes nothing', async () => {
    const before = await peers.db.order.count();
    const cases: [unknown, number][] = [
      [{ ...customer, items: [], payment: { token: 'tok_visa' } }, 400],
      [{ ...customer, customerEmail: 'not-an-email', items: [{ sku: 'E2E-MUG', quantity: 1 }], payment: { token: 'tok_visa' } }, 400],
      [{ ...customer, items: [{ sku: 'E2E-MUG', quantity: 0 }], payment: { token: 'tok_visa' } }, 400],
      [{ ...customer, items: [{ sku: 'E2E-MUG', quantity: 1, priceCents: 1 }], payment: { token: 'tok_visa' } }, 400],
      [{ ...customer, items: [{ sku: 'NO-SUCH-SKU', quantity: 1 }], payment: { token: 'tok_visa' } }, 422],
    ];
    for (const [body, status] of cases) {
      const res = await placeOrder(body);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const problem = (await res.json()) as { type: string; title: string; status: number };
      expect(problem.status).toBe(status);
      expect(problem.type).toMatch(/^https:\/\//);
    }
    const malformed = await fetch(`${api.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth() }, body: '{"customerId":' });
    expect(malformed.status).toBe(400);
    expect((await fetch(`${api.url}/orders/not-a-uuid`, { headers: auth() })).status).toBe(400);
    expect((await fetch(`${api.url}/orders/00000000-0000-4000-8000-000000000000`, { headers: auth() })).status).toBe(404);
    expect(await peers.db.order.count()).toBe(before);
  });

  /** Answers a problem+json with `status` and `slug`, and no order was recorded or stock reserved for `sku`. */
  async function expectRefused(res: Response, status: number, slug: string, sku: string, stock: number) {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const problem = (await res.json()) as { type: string; status: number };
    expect(problem).toMatchObject({ status, type: expect.stringMatching(new RegExp(`/${slug}$`)) });
    expect(await peers.inventory.getProduct(sku)).toMatchObject({ stock, reserved: 0 });
    return problem;
  }

  it('refuses an order in another currency than its products (422) before anything is reserved; products carry their currency', async () => {
    await product('E2E-CUP', 5, 1250); // no currency given: EUR
    const usd = await peers.inventory.upsertProduct('E2E-CAP', { name: 'Cap', priceCents: 1500, stock: 5, currency: 'USD' });
    expect(usd).toMatchObject({ sku: 'E2E-CAP', currency: 'USD' });
    expect(await peers.inventory.getProduct('E2E-CUP')).toMatchObject({ currency: 'EUR' });
    const customerId = 'cust-currency';
    const before = await peers.db.order.count({ where: { customerId } });

    const yen = await placeOrder({ ...customer, customerId, currency: 'JPY', items: [{ sku: 'E2E-CUP', quantity: 1 }], payment: { token: 'tok_visa' } });
    const problem = await expectRefused(yen, 422, 'currency-mismatch', 'E2E-CUP', 5);
    expect(problem).toMatchObject({ currency: 'JPY', products: [{ sku: 'E2E-CUP', currency: 'EUR' }] });
    const mixed = await placeOrder({ ...customer, customerId, items: [{ sku: 'E2E-CUP', quantity: 1 }, { sku: 'E2E-CAP', quantity: 1 }], payment: { token: 'tok_visa' } });
    await expectRefused(mixed, 422, 'currency-mismatch', 'E2E-CAP', 5);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await peers.db.order.count({ where: { customerId } })).toBe(before);

    const dollars = await placeOrder({ ...customer, customerId, currency: 'USD', items: [{ sku: 'E2E-CAP', quantity: 2 }], payment: { token: 'tok_visa' } });
    expect(dollars.status).toBe(202);
    const { orderId } = (await dollars.json()) as { orderId: string };
    expect(await orderUntilTerminal(orderId)).toMatchObject({ status: 'CONFIRMED', currency: 'USD', totalCents: 3000 });
    expect((await peers.payment.forOrder(orderId)).payment).toMatchObject({ currency: 'USD', amountCents: 3000 });
  });

  it('refuses an order whose total does not fit the money columns (422) instead of leaving it PENDING', async () => {
    await product('E2E-GOLD', 10, 2_000_000_000);
    const customerId = 'cust-total';
    const res = await placeOrder({ ...customer, customerId, items: [{ sku: 'E2E-GOLD', quantity: 2 }], payment: { token: 'tok_visa' } });
    const problem = await expectRefused(res, 422, 'order-total-too-large', 'E2E-GOLD', 10);
    expect(problem).toMatchObject({ maxTotalCents: 2_147_483_647 });
    expect(await peers.db.order.count({ where: { customerId } })).toBe(0);
    const tooMany = await placeOrder({ ...customer, customerId, items: [{ sku: 'E2E-GOLD', quantity: 1001 }], payment: { token: 'tok_visa' } });
    await expectRefused(tooMany, 400, 'validation-error', 'E2E-GOLD', 10);
    await product('E2E-FREE', 10, 0); // nothing to charge: the payment service takes at least 1 cent
    const free = await placeOrder({ ...customer, customerId, items: [{ sku: 'E2E-FREE', quantity: 1 }], payment: { token: 'tok_visa' } });
    await expectRefused(free, 422, 'order-total-zero', 'E2E-FREE', 10);
    // The same SKU on two lines: valid by the schema (it cannot say so), refused by the rule (422, documented).
    const twice = await placeOrder({ ...customer, customerId, items: [{ sku: 'E2E-GOLD', quantity: 1 }, { sku: 'E2E-FREE', quantity: 1 }, { sku: 'E2E-GOLD', quantity: 1 }], payment: { token: 'tok_visa' } });
    expect(await expectRefused(twice, 422, 'duplicate-sku', 'E2E-GOLD', 10)).toMatchObject({ skus: ['E2E-GOLD'] });
  });

  it('refuses a payment token the payment service would reject (400) before anything is reserved', async () => {
    await product('E2E-PEN', 5, 300);
    for (const token of ['visa', '4242424242424242', 'tok_', 'tok_visa!', `tok_${'x'.repeat(65)}`]) {
      const res = await placeOrder({ ...customer, items: [{ sku: 'E2E-PEN', quantity: 1 }], payment: { token } });
      const problem = (await expectRefused(res, 400, 'validation-error', 'E2E-PEN', 5)) as unknown as { errors: { path: string }[] };
      expect(problem.errors).toEqual([expect.objectContaining({ path: 'payment.token' })]);
    }
  });

  it('serves health, readiness, metrics and an OpenAPI document that matches the validation', async () => {
    expect(await (await fetch(`${api.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${api.url}/readyz`, { headers: auth(system.shopKey) })).json()).toMatchObject({ status: 'ready', checks: { database: 'ok', temporal: 'ok' } });
    const metrics = await (await fetch(`${api.url}/metrics`, { headers: auth(system.operatorKey) })).text();
    expect(metrics).toMatch(/^orders_started_total \d+/m);
    const doc = (await (await fetch(`${api.url}/openapi.json`, { headers: auth() })).json()) as { openapi: string; paths: Record<string, { post?: { requestBody: { content: Record<string, { schema: { required: string[] } }> } } }> };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/orders']!.post!.requestBody.content['application/json']!.schema.required).toEqual(['customerId', 'customerEmail', 'currency', 'items', 'payment']);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/analytics/summary', '/codec/decode', '/codec/encode', '/codec/session', '/docs', '/docs/assets/{file}', '/healthz', '/metrics', '/openapi.json',
      '/operator', '/operator/assets/{file}', '/operator/dashboard', '/operator/login', '/operator/logout', '/operator/orders/{orderId}/inspection', '/operator/stuck',
      '/orders', '/orders/{orderId}', '/orders/{orderId}/cancel', '/readyz', '/webhooks/payments',
    ]);
  });
});
