import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { createApiKey } from '../../api/api-keys';
import { purgeExpiredIdempotencyKeys } from '../../api/idempotency';
import { createOrderStateActivities } from '../../activities/order-state';
import { requestFingerprint } from '../../common/idempotency-key';
import { startApi } from '../../api/server';
import { orderWorkflowId } from '../../common/order/workflow-contract';
import { cleanUp } from '../harness/clean-up';
import { startTcpProxy } from '../harness/tcp-proxy';
import { quietLogger, startPeers, TEST_CALLERS, testConfig, waitFor, type Peers } from '../harness/system';
import { devServerAddress, testDataConverter } from '../harness/temporal';

/**
 * Retries of a keyed POST /orders whose order was placed, with another body: they must neither
 * change the placed order's secrets in the order vault, nor start a second order, nor take the key
 * from the request it belongs to. Mostly while the order is not recorded yet.
 * Real Postgres, inventory and Temporal dev server; the API starts its workflows on a task queue no
 * worker polls, so the orders stay placed and unrecorded (the window in which only Temporal and the
 * vault know them) for as long as the test needs.
 */
describe('keyed order retries', () => {
  let peers: Peers;
  let api: { url: string; stop(): Promise<void> };
  let connection: Connection;
  let temporal: Client;
  let shopKey: string;
  let sku: string;
  const started: string[] = [];

  beforeAll(async () => {
    peers = await startPeers();
    api = await startApi(testConfig({
      DATABASE_URL: peers.database.url, INVENTORY_URL: peers.inventoryUrl, PAYMENT_URL: peers.paymentUrl,
      INVENTORY_TOKEN: TEST_CALLERS.api, PAYMENT_TOKEN: TEST_CALLERS.api, API_PORT: '0', PAYMENT_WEBHOOK_SECRET: 'test-webhook-secret',
    }), quietLogger);
    connection = await Connection.connect({ address: devServerAddress() });
    temporal = new Client({ connection, dataConverter: testDataConverter() });
    shopKey = (await createApiKey(peers.db, 'test-shop', 'shop')).key;
    sku = `RETRY-${randomUUID().slice(0, 8)}`;
    await peers.inventory.upsertProduct(sku, { name: sku, priceCents: 700, stock: 100 });
  });
  afterAll(() => cleanUp(
    ...started.map((orderId) => () => temporal.workflow.getHandle(orderWorkflowId(orderId)).terminate('test over').catch(() => undefined)),
    () => connection?.close(),
    () => api?.stop(),
    () => peers?.stop(),
  ));

  const post = (body: unknown, key: string) => fetch(`${api.url}/orders`, {
    method: 'POST', body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${shopKey}`, 'idempotency-key': key },
  });
  const body = (customerEmail: string, token: string, quantity = 1) =>
    ({ customerId: 'retry-1', customerEmail, currency: 'EUR', items: [{ sku, quantity }], payment: { token } });
  const vaultOf = async (orderId: string) =>
    (await peers.pool.query('SELECT customer_email, payment_token FROM order_vault WHERE order_id = $1', [orderId])).rows;
  const runOf = async (orderId: string) => (await temporal.workflow.getHandle(orderWorkflowId(orderId)).describe()).runId;

  async function place(request: unknown, key: string): Promise<string> {
    const res = await post(request, key);
    expect(res.status).toBe(202);
    const { orderId } = (await res.json()) as { orderId: string };
    started.push(orderId);
    return orderId;
  }

  /** While `run` runs, no answer can be saved under an `unsaved-` key, so the key is released (as after a 5xx or a lost answer). */
  async function refusingKeptAnswers(run: () => Promise<void>): Promise<void> {
    await peers.pool.query(`
      CREATE FUNCTION test_refuse_kept_answers() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.key LIKE 'unsaved-%' AND NEW.status_code IS NOT NULL THEN RAISE EXCEPTION 'disk full'; END IF;
        RETURN NEW;
      END $$`);
    await peers.pool.query('CREATE TRIGGER test_refuse_kept_answers BEFORE UPDATE ON api_idempotency_keys FOR EACH ROW EXECUTE FUNCTION test_refuse_kept_answers()');
    try {
      await run();
    } finally {
      await peers.pool.query('DROP TRIGGER IF EXISTS test_refuse_kept_answers ON api_idempotency_keys');
      await peers.pool.query('DROP FUNCTION IF EXISTS test_refuse_kept_answers()');
    }
  }

  /** The order's row, as the workflow's first step writes it (no worker polls this test's task queue). */
  async function recordPlaced(orderId: string, requestHash?: string): Promise<void> {
    await createOrderStateActivities(peers.pool).recordOrderPlaced({
      eventId: randomUUID(),
      order: {
        orderId, clientId: 'test-shop', customerId: 'retry-1', currency: 'EUR', lines: [{ sku, quantity: 1, unitPriceCents: 700 }], totalCents: 700,
        correlationId: randomUUID(), ...(requestHash && { requestHash }),
      },
    });
  }

  async function expectKeyReused(res: Response) {
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ type: expect.stringMatching(/\/idempotency-key-reused$/) });
  }

  it('after a released key: another body is 422, the vault keeps the first card and email, and no second order starts', async () => {
    const key = `unsaved-${randomUUID()}`;
    await refusingKeptAnswers(async () => {
      const orderId = await place(body('first@shop.example', 'tok_visa'), key);
      const run = await runOf(orderId);

      await expectKeyReused(await post(body('other@shop.example', 'tok_chargeDeclined', 2), key));
      expect(await vaultOf(orderId)).toEqual([{ customer_email: 'first@shop.example', payment_token: 'tok_visa' }]);
      expect(await runOf(orderId)).toBe(run);

      // The same request again still answers with its order: from Temporal, asked first because the key was
      // held before, so before pricing (which would now refuse it: the product is priced in another currency).
      await peers.inventory.upsertProduct(sku, { name: sku, priceCents: 700, stock: 100, currency: 'USD' });
      try {
        expect(await place(body('first@shop.example', 'tok_visa'), key)).toBe(orderId);
      } finally {
        await peers.inventory.upsertProduct(sku, { name: sku, priceCents: 700, stock: 100, currency: 'EUR' });
      }
      expect(await runOf(orderId)).toBe(run);
    });
  });

  it('after the key row is gone (expired and purged): another body is refused by the vault, which keeps the first secrets', async () => {
    const key = randomUUID();
    const orderId = await place(body('first@shop.example', 'tok_visa'), key);
    const run = await runOf(orderId);
    await peers.pool.query('DELETE FROM api_idempotency_keys WHERE key = $1', [key]);

    await expectKeyReused(await post(body('other@shop.example', 'tok_chargeDeclined'), key));
    expect(await vaultOf(orderId)).toEqual([{ customer_email: 'first@shop.example', payment_token: 'tok_visa' }]);
    expect(await runOf(orderId)).toBe(run);

    // The same request, its key forgotten as well: the start finds the workflow, and the answer is that order.
    await peers.pool.query('DELETE FROM api_idempotency_keys WHERE key = $1', [key]);
    expect(await place(body('first@shop.example', 'tok_visa'), key)).toBe(orderId);
    expect(await runOf(orderId)).toBe(run);
  });

  it('after the order ended (its secrets gone): another body is 422 and leaves no secrets of its own behind', async () => {
    const key = randomUUID();
    const orderId = await place(body('first@shop.example', 'tok_visa'), key);
    await temporal.workflow.getHandle(orderWorkflowId(orderId)).terminate('test: the order ended');
    await peers.pool.query('DELETE FROM order_vault WHERE order_id = $1', [orderId]);
    await peers.pool.query('DELETE FROM api_idempotency_keys WHERE key = $1', [key]);

    await expectKeyReused(await post(body('other@shop.example', 'tok_chargeDeclined'), key));
    expect(await vaultOf(orderId)).toEqual([]);
  });

  it('while the order runs: a refused request that stored the same email and card leaves them, as the order may need them', async () => {
    const key = randomUUID();
    const orderId = await place(body('first@shop.example', 'tok_visa'), key);
    // As if this request stored its row first and the first attempt, finding the same values, went on with them.
    await peers.pool.query('DELETE FROM order_vault WHERE order_id = $1', [orderId]);
    await peers.pool.query('DELETE FROM api_idempotency_keys WHERE key = $1', [key]);

    await expectKeyReused(await post(body('first@shop.example', 'tok_visa', 2), key));
    expect(await vaultOf(orderId)).toEqual([{ customer_email: 'first@shop.example', payment_token: 'tok_visa' }]);
  });
  it('after a released key: a refused request does not take the key, and the first request\'s retry still gets its order', async () => {
    const key = `unsaved-${randomUUID()}`;
    let orderId: string;
    await refusingKeptAnswers(async () => {
      orderId = await place(body('first@shop.example', 'tok_visa'), key);
    });
    // The refusal is not kept under the key: kept, it would hold the key for the other body, and the
    // first request's retry would be refused until the key expired.
    await expectKeyReused(await post(body('other@shop.example', 'tok_visa'), key));
    expect(await place(body('first@shop.example', 'tok_visa'), key)).toBe(orderId!);
    await expectKeyReused(await post(body('other@shop.example', 'tok_visa'), key));
  });

  it('an order recorded with its request\'s fingerprint: after the key\'s row is gone, only another card token is 422', async () => {
    const key = randomUUID();
    const first = body('first@shop.example', 'tok_visa');
    const orderId = await place(first, key);
    await recordPlaced(orderId, requestFingerprint('POST /orders', first, '\n'));
    await peers.pool.query('DELETE FROM api_idempotency_keys WHERE key = $1', [key]); // expired and purged: a fresh claim, Temporal not asked
    await expectKeyReused(await post(body('first@shop.example', 'tok_mastercard'), key));
    await peers.pool.query('DELETE FROM api_idempotency_keys WHERE key = $1', [key]);
    expect(await place(first, key)).toBe(orderId);
  });

  it('after a released key, an order recorded before fingerprints were kept: only another card token is 422 (Temporal\'s memo tells)', async () => {
    const key = `unsaved-${randomUUID()}`;
    let orderId: string;
    await refusingKeptAnswers(async () => {
      orderId = await place(body('first@shop.example', 'tok_visa'), key);
    });
    await recordPlaced(orderId!);
    // The row has no fingerprint and no column keeps the token, so only the start's memo tells this request from the first.
    await expectKeyReused(await post(body('first@shop.example', 'tok_mastercard'), key));
    expect(await place(body('first@shop.example', 'tok_visa'), key)).toBe(orderId!);
  });

  it('purges the keys that have expired by Postgres\' clock, and only those, whatever this host\'s clock says', async () => {
    const [expired, live] = [`purge-${randomUUID()}`, `purge-${randomUUID()}`];
    await peers.pool.query(`INSERT INTO api_idempotency_keys (client_id, key, operation, request_hash, expires_at)
      VALUES ('test-shop', $1, 'POST /orders', 'h', now() - interval '1 second'), ('test-shop', $2, 'POST /orders', 'h', now() + interval '1 minute')`, [expired, live]);
    // This host's clock an hour ahead of the database's (only Date is faked): the live key is not expired.
    jest.useFakeTimers({ now: Date.now() + 3_600_000, doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'hrtime', 'performance'] });
    try {
      expect(await purgeExpiredIdempotencyKeys(peers.pool)).toBeGreaterThanOrEqual(1);
    } finally {
      jest.useRealTimers();
    }
    const { rows } = await peers.pool.query<{ key: string }>('SELECT key FROM api_idempotency_keys WHERE key = ANY($1)', [[expired, live]]);
    expect(rows.map((r) => r.key)).toEqual([live]);
  });

  it('two attempts at once past the lease: the one that took the key over keeps its answer, the first still gets the same order, one order starts', async () => {
    // The first attempt goes through an API whose pricing answers are held, so it is still running when its lease ends.
    let proxy: Awaited<ReturnType<typeof startTcpProxy>> | undefined;
    let slowApi: { url: string; stop(): Promise<void> } | undefined;
    try {
      proxy = await startTcpProxy(new URL(peers.inventoryUrl).host);
      slowApi = await startApi(testConfig({
        DATABASE_URL: peers.database.url, INVENTORY_URL: `http://${proxy.address}`, PAYMENT_URL: peers.paymentUrl, HTTP_CLIENT_TIMEOUT_MS: '30000',
        INVENTORY_TOKEN: TEST_CALLERS.api, PAYMENT_TOKEN: TEST_CALLERS.api, API_PORT: '0', PAYMENT_WEBHOOK_SECRET: 'test-webhook-secret',
      }), quietLogger);
      const key = randomUUID();
      const request = body('first@shop.example', 'tok_visa');
      proxy.holdAnswers();
      const first = fetch(`${slowApi.url}/orders`, {
        method: 'POST', body: JSON.stringify(request),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${shopKey}`, 'idempotency-key': key },
      });
      first.catch(() => undefined); // awaited below; not unhandled if the test fails before
      const claimOf = async () => (await peers.pool.query<{ created_at: string; status_code: number | null }>(
        'SELECT created_at::text, expires_at::text, status_code FROM api_idempotency_keys WHERE key = $1', [key])).rows[0];
      await waitFor('the first attempt\'s claim', async () => (await claimOf()) !== undefined, 10_000, 20);
      // Its lease runs out (30 s, moved on here) while it waits for its prices.
      await peers.pool.query(`UPDATE api_idempotency_keys SET created_at = created_at - interval '31 seconds' WHERE key = $1`, [key]);

      const orderId = await place(request, key); // takes the key over, places the order
      const run = await runOf(orderId);
      const secondClaim = await claimOf();
      expect(secondClaim?.status_code).toBe(202);

      proxy.deliver();
      const late = await first;
      expect(late.status).toBe(202);
      expect(((await late.json()) as { orderId: string }).orderId).toBe(orderId);
      expect(await runOf(orderId)).toBe(run);
      expect(await claimOf()).toEqual(secondClaim); // the late attempt did not write over the answer kept by the one that took the key

      const replay = await post(request, key);
      expect(replay.status).toBe(202);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
    } finally {
      proxy?.deliver();
      await cleanUp(() => slowApi?.stop(), () => proxy?.stop());
    }
  });
});
