import { randomUUID } from 'node:crypto';
import { IN_PROGRESS_LEASE_MS } from '../../api/idempotency';
import { startApi } from '../../api/server';
import type { Config } from '../../common/config';
import { requestFingerprint } from '../../common/idempotency-key';
import { freePort } from '../../scripts/infra/ports';
import { startFullSystem, type FullSystem } from '../harness/full-system';
import { peerHeaders, quietLogger, setPeerFaults, waitFor } from '../harness/system';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy';
import { cleanUp } from '../harness/clean-up';

/**
 * Late answers, ambiguous outcomes and crashes, as the REST API's clients meet them: a workflow
 * start whose answer is lost, Temporal answering late, a cancel whose undos take long, a key whose
 * first request crashed, an answer that cannot be saved, and dependencies that are down. All
 * real: a second API instance talks to the real Temporal server through a TCP proxy that holds
 * its answers back.
 */
describe('late answers, ambiguous outcomes and crashes at the REST API', () => {
  let sys: FullSystem;
  let proxy: TcpProxy;
  /** An API that reaches Temporal only through `proxy`, with a short deadline on Temporal calls. */
  let late: { url: string; stop(): Promise<void> };
  const customer = { customerEmail: 'late@shop.example', currency: 'EUR' };

  beforeAll(async () => {
    sys = await startFullSystem({ PAYMENT_CONFIRMATION_TIMEOUT: '1m' });
    proxy = await startTcpProxy(sys.config.TEMPORAL_ADDRESS);
    late = await startApi({ ...sys.apiConfig, TEMPORAL_ADDRESS: proxy.address, API_PORT: 0, TEMPORAL_CALL_TIMEOUT: 3_000 } as Config, quietLogger);
  });
  afterAll(() => cleanUp(
    () => late?.stop(),
    () => proxy?.stop(),
    () => sys?.stop(),
  ));

  async function product(stock: number, priceCents = 1000): Promise<string> {
    const sku = `LATE-${randomUUID().slice(0, 8)}`;
    await sys.peers.inventory.upsertProduct(sku, { name: sku, priceCents, stock });
    return sku;
  }

  function post(baseUrl: string, path: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs = 30_000) {
    return fetch(`${baseUrl}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${sys.shopKey}`, ...headers }, signal: AbortSignal.timeout(timeoutMs),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  async function order(orderId: string, baseUrl = sys.apiUrl) {
    const res = await fetch(`${baseUrl}/orders/${orderId}`, { headers: { authorization: `Bearer ${sys.shopKey}` }, signal: AbortSignal.timeout(30_000) });
    return (await res.json()) as Record<string, unknown> & { status: string; terminal?: boolean; saga?: Record<string, unknown> };
  }

  const finished = (orderId: string, timeoutMs = 60_000) =>
    waitFor(`order ${orderId} to finish`, async () => { const o = await order(orderId); return o.terminal ? o : undefined; }, timeoutMs);

  const ordersOf = (customerId: string) => sys.peers.db.order.findMany({ where: { customerId } });

  /** What a client does with a 503 that says "retry with the same key": it retries until it has an answer. */
  const untilAccepted = (send: () => Promise<Response>) =>
    waitFor('the request to be accepted', async () => { const r = await send(); if (r.status === 202) return r; await r.text(); return undefined; }, 60_000, 1_000);

  it('a start whose answer is lost: 503 says the outcome is unknown, and a retry with the same key gets that order, not a second one', async () => {
    const sku = await product(10);
    const customerId = `lost-${randomUUID().slice(0, 8)}`;
    const body = { ...customer, customerId, items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' } };
    const key = randomUUID();

    // The start reaches Temporal and runs; its answer never comes back, the connection breaks.
    proxy.holdAnswers({ cutAfterMs: 1_000 });
    let first: Response;
    try {
      first = await post(late.url, '/orders', body, { 'idempotency-key': key }, 90_000);
    } finally {
      proxy.deliver();
    }
    expect(first.status).toBe(503);
    expect(first.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const problem = (await first.json()) as { type: string; detail: string; orderId?: string };

    const retry = await untilAccepted(() => post(late.url, '/orders', body, { 'idempotency-key': key }));
    const accepted = (await retry.json()) as { orderId: string; status: string; totalCents: number };
    await finished(accepted.orderId);
    await new Promise((r) => setTimeout(r, 2_000)); // a second order, had one been started, is recorded by now

    expect((await ordersOf(customerId)).map((o) => o.id)).toEqual([accepted.orderId]);
    expect(await sys.peers.inventory.getProduct(sku)).toMatchObject({ stock: 9, reserved: 0 });
    expect(accepted).toMatchObject({ status: 'PENDING', totalCents: 1000 });
    expect(retry.headers.get('location')).toBe(`/orders/${accepted.orderId}`);
    expect(problem.orderId).toBe(accepted.orderId);
    expect(problem.type).toMatch(/\/order-outcome-unknown$/);
    expect(problem.detail).toMatch(/not known/i);
    expect(problem.detail).toMatch(/same Idempotency-Key/);
    expect(problem.detail).not.toMatch(/nothing was/i);
  });

  it('Temporal answering late: the start, the status query and the cancel end at their deadline, and say what is known', async () => {
    const sku = await product(10);
    const waitingId = ((await (await post(sys.apiUrl, '/orders', { ...customer, customerId: 'late-1', items: [{ sku, quantity: 1 }], payment: { token: 'tok_threeDSecure' } })).json()) as { orderId: string }).orderId;
    await waitFor('the order to wait for confirmation', async () => (await order(waitingId)).status === 'AWAITING_PAYMENT_CONFIRMATION');
    const cancelKey = randomUUID();

    proxy.holdAnswers();
    // The void cannot be done for now, so the cancel cannot be over (and recorded) by its deadline.
    await setPeerFaults(sys.peers.paymentUrl, { failNextRequests: 1_000_000 });
    const started = Date.now();
    try {
      const start = await post(late.url, '/orders', { ...customer, customerId: 'late-2', items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' } }, { 'idempotency-key': randomUUID() });
      expect(start.status).toBe(503);
      expect(await start.json()).toMatchObject({ type: expect.stringMatching(/\/order-outcome-unknown$/) });

      const view = await order(waitingId, late.url); // the live state cannot be had in time: the recorded one is the answer
      expect(view).toMatchObject({ orderId: waitingId, status: 'AWAITING_PAYMENT_CONFIRMATION', terminal: false });
      expect(view.saga).toBeUndefined();

      const cancel = await post(late.url, `/orders/${waitingId}/cancel`, undefined, { 'idempotency-key': cancelKey });
      expect(cancel.status).toBe(503);
      expect(cancel.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(((await cancel.json()) as { detail: string }).detail).toMatch(/same Idempotency-Key/);
    } finally {
      proxy.deliver();
      await setPeerFaults(sys.peers.paymentUrl, {});
    }
    expect(Date.now() - started).toBeLessThan(25_000);

    // The cancel did reach the order (that is why the answer was "not known", not "refused").
    expect(await finished(waitingId)).toMatchObject({ status: 'CANCELLED', reasonCode: 'CUSTOMER_CANCELLED' });
    const again = await untilAccepted(() => post(late.url, `/orders/${waitingId}/cancel`, undefined, { 'idempotency-key': cancelKey }));
    expect(await again.json()).toMatchObject({ orderId: waitingId, status: 'CANCELLED', reasonCode: 'CUSTOMER_CANCELLED' });
  });

  it('cancel answers 202 with a Location once the cancel is accepted, without waiting for the undos', async () => {
    const sku = await product(5);
    const res = await post(sys.apiUrl, '/orders', { ...customer, customerId: 'late-3', items: [{ sku, quantity: 2 }], payment: { token: 'tok_threeDSecure' } });
    const { orderId } = (await res.json()) as { orderId: string };
    await waitFor('the order to wait for confirmation', async () => (await order(orderId)).status === 'AWAITING_PAYMENT_CONFIRMATION');

    await setPeerFaults(sys.peers.paymentUrl, { failNextRequests: 1_000_000 }); // the void cannot be done for now
    try {
      const cancel = await post(sys.apiUrl, `/orders/${orderId}/cancel`, undefined, {}, 15_000);
      expect(cancel.status).toBe(202);
      expect(cancel.headers.get('location')).toBe(`/orders/${orderId}`);
      expect(await cancel.json()).toMatchObject({ orderId, cancelRequested: true });
      const during = await order(orderId);
      expect(during).toMatchObject({ terminal: false, saga: expect.objectContaining({ cancelRequested: true }) });
    } finally {
      await setPeerFaults(sys.peers.paymentUrl, {});
    }
    expect(await finished(orderId)).toMatchObject({ status: 'CANCELLED', reasonCode: 'CUSTOMER_CANCELLED' });
    expect(await sys.peers.inventory.getProduct(sku)).toMatchObject({ stock: 5, reserved: 0 });
    expect((await sys.peers.payment.forOrder(orderId)).payment?.status).toBe('VOIDED');
  });

  it('a cancel the running order refuses (it is being confirmed) is 409 with its reason, at once', async () => {
    const sku = await product(5);
    const res = await post(sys.apiUrl, '/orders', { ...customer, customerId: 'late-4', items: [{ sku, quantity: 1 }], payment: { token: 'tok_threeDSecure' } });
    const { orderId } = (await res.json()) as { orderId: string };
    await waitFor('the order to wait for confirmation', async () => (await order(orderId)).status === 'AWAITING_PAYMENT_CONFIRMATION');
    await setPeerFaults(sys.peers.inventoryUrl, { failNextRequests: 1_000_000 }); // the stock cannot be committed for now
    try {
      const challenge = await fetch(`${sys.peers.paymentUrl}/test/3ds/${orderId}`, { method: 'POST', headers: peerHeaders(), body: JSON.stringify({ outcome: 'complete' }) });
      expect(challenge.status).toBe(200);
      await waitFor('the order to commit its stock', async () => (await order(orderId)).saga?.currentStep === 'commit-stock');
      const cancel = await post(sys.apiUrl, `/orders/${orderId}/cancel`, undefined, {}, 15_000);
      expect(cancel.status).toBe(409);
      expect(cancel.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(await cancel.json()).toMatchObject({ orderId, detail: 'Order is being confirmed and can no longer be cancelled' });
    } finally {
      await setPeerFaults(sys.peers.inventoryUrl, {});
    }
    expect(await finished(orderId)).toMatchObject({ status: 'CONFIRMED' });
  });

  it('a key whose first request crashed before its answer was saved is free again after a short lease, not for 24 hours', async () => {
    const sku = await product(5);
    const key = randomUUID();
    const body = { ...customer, customerId: `crashed-${randomUUID().slice(0, 8)}`, items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' } };
    // What an API process that died between claiming the key and saving the answer leaves behind.
    await sys.peers.db.$executeRaw`
      INSERT INTO api_idempotency_keys (client_id, key, operation, request_hash, created_at, expires_at)
      VALUES ('test-shop', ${key}, 'POST /orders', ${requestFingerprint('POST /orders', body, '\n')},
              now() - interval '10 minutes', now() + interval '24 hours' - interval '10 minutes')`;
    const res = await post(sys.apiUrl, '/orders', body, { 'idempotency-key': key });
    expect(res.status).toBe(202);
    const { orderId } = (await res.json()) as { orderId: string };
    expect(await finished(orderId)).toMatchObject({ status: 'CONFIRMED' });
  });

  it('an answer that cannot be saved is still sent, with no internal error text, and its key is released', async () => {
    const sku = await product(5);
    const customerId = `unsaved-${randomUUID().slice(0, 8)}`;
    const body = { ...customer, customerId, items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' } };
    const key = `unsavable-${randomUUID()}`;
    await sys.peers.db.$executeRawUnsafe(`
      CREATE FUNCTION test_refuse_answers() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.key LIKE 'unsavable-%' AND NEW.status_code IS NOT NULL THEN
          RAISE EXCEPTION 'could not extend file "base/16384/2619": No space left on device';
        END IF;
        RETURN NEW;
      END $$`);
    await sys.peers.db.$executeRawUnsafe('CREATE TRIGGER test_refuse_answers BEFORE UPDATE ON api_idempotency_keys FOR EACH ROW EXECUTE FUNCTION test_refuse_answers()');
    try {
      const res = await post(sys.apiUrl, '/orders', body, { 'idempotency-key': key });
      const text = await res.text();
      expect(text).not.toMatch(/space left|base\/16384|prisma|api_idempotency_keys/i);
      expect(res.status).toBe(202);
      const { orderId } = JSON.parse(text) as { orderId: string };
      // Released: no answer kept, and its lease over, so the key is free at once (its row remembers it was held).
      const [released] = await sys.peers.db.apiIdempotencyKey.findMany({ where: { key } });
      expect(released?.statusCode).toBeNull();
      expect(released!.createdAt.getTime()).toBeLessThan(Date.now() - IN_PROGRESS_LEASE_MS);

      const retry = await post(sys.apiUrl, '/orders', body, { 'idempotency-key': key });
      expect(retry.status).toBe(202);
      expect(((await retry.json()) as { orderId: string }).orderId).toBe(orderId);
      expect(await finished(orderId)).toMatchObject({ status: 'CONFIRMED' });
      expect((await ordersOf(customerId)).length).toBe(1);
    } finally {
      await sys.peers.db.$executeRawUnsafe('DROP TRIGGER IF EXISTS test_refuse_answers ON api_idempotency_keys');
      await sys.peers.db.$executeRawUnsafe('DROP FUNCTION IF EXISTS test_refuse_answers()');
    }
  });

  it('dependencies that are down: problem+json answers with no internal error text (addresses, driver messages, stack)', async () => {
    const [dbPort, inventoryPort] = [await freePort(), await freePort()];
    const broken = await startApi({
      ...sys.apiConfig, API_PORT: 0,
      DATABASE_URL: `postgresql://orders:s3cret-pw@127.0.0.1:${dbPort}/orders`, INVENTORY_URL: `http://127.0.0.1:${inventoryPort}`,
    } as Config, quietLogger);
    // The catalog alone down (API keys are checked in the database, so that one is up here).
    const noInventory = await startApi({ ...sys.apiConfig, API_PORT: 0, INVENTORY_URL: `http://127.0.0.1:${inventoryPort}` } as Config, quietLogger);
    const leaks = /ECONNREFUSED|127\.0\.0\.1|s3cret|prisma|at \w+ \(|fetch failed|timed out after/i;
    try {
      const ready = await fetch(`${broken.url}/readyz`, { headers: { authorization: `Bearer ${sys.shopKey}` } });
      expect(ready.status).toBe(503);
      const readyText = await ready.text();
      expect(readyText).not.toMatch(leaks);
      expect(JSON.parse(readyText)).toMatchObject({ status: 503, type: expect.stringMatching(/\/authentication-unavailable$/) });

      const body = { ...customer, customerId: 'down-1', items: [{ sku: 'ANY-SKU', quantity: 1 }], payment: { token: 'tok_visa' } };
      const noCatalog = await post(noInventory.url, '/orders', body);
      expect(noCatalog.status).toBe(503);
      expect(noCatalog.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const noCatalogText = await noCatalog.text();
      expect(noCatalogText).not.toMatch(leaks);
      expect(JSON.parse(noCatalogText)).toMatchObject({ type: expect.stringMatching(/\/catalog-unavailable$/) });

      const auth = { authorization: `Bearer ${sys.shopKey}` };
      for (const res of [
        await post(broken.url, '/orders', body),
        await post(broken.url, '/orders', body, { 'idempotency-key': randomUUID() }),
        await fetch(`${broken.url}/orders/${randomUUID()}`, { headers: auth }),
        await fetch(`${broken.url}/orders`, { headers: auth }),
      ]) {
        expect(res.status).toBeGreaterThanOrEqual(500);
        expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
        expect(await res.text()).not.toMatch(leaks);
      }
    } finally {
      await broken.stop();
      await noInventory.stop();
    }
  });
});
