import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { startInventoryService, type RunningInventoryService } from '../../services/inventory/server';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { describeHealthChecks } from './health-checks';
import { call, newKey, problemType, TEST_CALLERS, testLogger } from './http-helpers';
import { cleanUp } from '../harness/clean-up';

let db: TestDatabase;
let service: RunningInventoryService;
let pool: Pool;
let url: string;

beforeAll(async () => {
  db = await createTestDatabase('inventory');
  service = await startInventoryService({ databaseUrl: db.url, port: 0, logger: testLogger('inventory-test'), callers: TEST_CALLERS, testMode: true });
  url = service.url;
  pool = new Pool({ connectionString: db.url });
});

afterAll(() => cleanUp(
  () => service?.stop(),
  () => pool?.end(),
  () => db?.drop(),
));

/** Each test works on its own skus, so tests do not depend on each other's stock. */
function sku(name: string): string {
  return `${name}-${randomUUID().slice(0, 8)}`;
}

async function putProduct(productSku: string, stock: number, priceCents = 1_000) {
  const res = await call(url, 'PUT', `/products/${productSku}`, { body: { name: `Product ${productSku}`, priceCents, stock } });
  expect(res.status).toBe(200);
  return res.body;
}

async function product(productSku: string) {
  const res = await call(url, 'GET', `/products/${productSku}`);
  expect(res.status).toBe(200);
  return res.body;
}

function reserve(orderId: string, lines: { sku: string; quantity: number }[], key = newKey()) {
  return call(url, 'POST', '/reservations', { key, body: { orderId, lines } });
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, params);
  return Number(rows[0]!.n);
}

/** The inventory's invariants, checked over every product after a test has done its worst. */
async function expectInvariantsHold() {
  expect(await count('inventory.products WHERE stock < 0 OR reserved < 0 OR reserved > stock')).toBe(0);
  const mismatched = await pool.query(`
    SELECT p.sku FROM inventory.products p
    LEFT JOIN (SELECT l.sku, sum(l.quantity) AS held FROM inventory.reservation_lines l
               JOIN inventory.reservations r ON r.order_id = l.order_id AND r.status = 'RESERVED' GROUP BY l.sku) h ON h.sku = p.sku
    WHERE p.reserved <> coalesce(h.held, 0)`);
  expect(mismatched.rows).toEqual([]);
}

describeHealthChecks(() => url);

describe('products', () => {
  it('upserts and reads a product with computed availability', async () => {
    const s = sku('shirt.blue_L');
    expect(await putProduct(s, 5, 2_500)).toEqual({ sku: s, name: `Product ${s}`, priceCents: 2_500, currency: 'EUR', stock: 5, reserved: 0, available: 5 });
    await putProduct(s, 7, 2_400);
    expect(await product(s)).toEqual({ sku: s, name: `Product ${s}`, priceCents: 2_400, currency: 'EUR', stock: 7, reserved: 0, available: 7 });
    const list = await call(url, 'GET', '/products');
    expect(list.status).toBe(200);
    expect(list.body.items).toContainEqual(expect.objectContaining({ sku: s, stock: 7 }));
  });

  it('answers 404 problem for an unknown sku', async () => {
    const res = await call(url, 'GET', `/products/${sku('missing')}`);
    expect(res.status).toBe(404);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.type).toBe(problemType('product-not-found'));
  });

  it('refuses invalid products with 400 and writes nothing', async () => {
    const s = sku('bad');
    for (const body of [{ name: 'x', priceCents: -1, stock: 1 }, { name: 'x', priceCents: 1, stock: 1.5 }, { name: '', priceCents: 1, stock: 1 }, { name: 'x', priceCents: 1 }, { name: 'x', priceCents: 1, stock: 1, extra: true },
      { name: 'nul\u0000byte', priceCents: 1, stock: 1 }, { name: ' padded ', priceCents: 1, stock: 1 }, { name: 'x'.repeat(201), priceCents: 1, stock: 1 }]) {
      const res = await call(url, 'PUT', `/products/${s}`, { body });
      expect(res.status).toBe(400);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body.type).toBe(problemType('validation-error'));
    }
    expect((await call(url, 'PUT', '/products/has%20space', { body: { name: 'x', priceCents: 1, stock: 1 } })).status).toBe(400);
    expect((await call(url, 'PUT', `/products/${s}`, { rawBody: '{"name":', headers: { 'content-type': 'application/json' } })).body.type).toBe(problemType('malformed-json'));
    expect((await call(url, 'GET', `/products/${s}`)).status).toBe(404);
  });

  it('products carry a currency: EUR unless one is given, kept by an update that does not name one', async () => {
    const s = sku('cap');
    const put = (body: Record<string, unknown>) => call(url, 'PUT', `/products/${s}`, { body: { name: 'Cap', priceCents: 1_500, stock: 3, ...body } });
    expect(await put({ currency: 'USD' })).toMatchObject({ status: 200, body: { sku: s, priceCents: 1_500, currency: 'USD' } });
    expect(await put({ stock: 4 })).toMatchObject({ status: 200, body: { currency: 'USD', stock: 4 } });
    expect(await product(s)).toMatchObject({ currency: 'USD' });
    expect((await call(url, 'GET', '/products')).body.items).toContainEqual(expect.objectContaining({ sku: s, currency: 'USD' }));
    expect(await put({ currency: 'GBP' })).toMatchObject({ status: 200, body: { currency: 'GBP' } });
    for (const currency of ['usd', 'EURO', 'E1', 12, null]) {
      const res = await put({ currency });
      expect(res.status).toBe(400);
      expect(res.body.type).toBe(problemType('validation-error'));
    }
    expect(await product(s)).toMatchObject({ currency: 'GBP' });
  });

  it('a products table from before currencies gets the column on start, EUR for the rows it has (and the sample catalog is EUR); the next start changes nothing', async () => {
    const old = await createTestDatabase('inventory_old');
    const oldPool = new Pool({ connectionString: old.url });
    try {
      await oldPool.query(`CREATE SCHEMA inventory;
        CREATE TABLE inventory.products (
          sku text PRIMARY KEY, name text NOT NULL, price_cents integer NOT NULL CHECK (price_cents >= 0),
          stock integer NOT NULL CHECK (stock >= 0), reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
          created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
          CONSTRAINT products_reserved_within_stock CHECK (reserved <= stock));
        INSERT INTO inventory.products (sku, name, price_cents, stock) VALUES ('OLD-MUG', 'Old mug', 1250, 3);`);
      for (let start = 0; start < 2; start += 1) {
        const started = await startInventoryService({ databaseUrl: old.url, port: 0, logger: testLogger('inventory-old'), seedSampleCatalog: start === 1, callers: TEST_CALLERS });
        try {
          const res = await call(started.url, 'GET', '/products/OLD-MUG');
          expect(res).toMatchObject({ status: 200, body: { sku: 'OLD-MUG', priceCents: 1250, currency: 'EUR', stock: 3 } });
          if (start === 1) expect((await call(started.url, 'GET', '/products/MUG-001')).body).toMatchObject({ priceCents: 1250, currency: 'EUR' });
        } finally {
          await started.stop();
        }
      }
      const { rows } = await oldPool.query("SELECT column_default, is_nullable FROM information_schema.columns WHERE table_schema = 'inventory' AND table_name = 'products' AND column_name = 'currency'");
      expect(rows).toEqual([{ column_default: expect.stringMatching(/EUR/), is_nullable: 'NO' }]);
    } finally {
      await oldPool.end();
      await old.drop();
    }
  });

  it('refuses to set stock below what is reserved, and leaves reserved alone', async () => {
    const s = sku('mug');
    await putProduct(s, 5);
    expect((await reserve(randomUUID(), [{ sku: s, quantity: 3 }])).status).toBe(201);
    const res = await call(url, 'PUT', `/products/${s}`, { body: { name: 'Mug', priceCents: 1, stock: 2 } });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ type: problemType('stock-below-reserved'), sku: s, requestedStock: 2, reserved: 3 });
    await putProduct(s, 3);
    expect(await product(s)).toMatchObject({ stock: 3, reserved: 3, available: 0 });
  });
});

describe('reservations', () => {
  it('reserves all lines and answers the contract shape', async () => {
    const [a, b] = [sku('a'), sku('b')];
    await putProduct(a, 10);
    await putProduct(b, 4);
    const orderId = randomUUID();
    const res = await reserve(orderId, [{ sku: b, quantity: 4 }, { sku: a, quantity: 2 }]);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      orderId, status: 'RESERVED',
      lines: expect.arrayContaining([{ sku: a, quantity: 2 }, { sku: b, quantity: 4 }]),
      createdAt: expect.any(String), updatedAt: expect.any(String),
    });
    expect(await product(a)).toMatchObject({ stock: 10, reserved: 2, available: 8 });
    expect(await product(b)).toMatchObject({ stock: 4, reserved: 4, available: 0 });
    const read = await call(url, 'GET', `/reservations/${orderId}`);
    expect(read).toMatchObject({ status: 200, body: res.body });
  });

  it('adds up lines that name the same sku', async () => {
    const s = sku('twice');
    await putProduct(s, 10);
    const orderId = randomUUID();
    const res = await reserve(orderId, [{ sku: s, quantity: 1 }, { sku: s, quantity: 2 }]);
    expect(res).toMatchObject({ status: 201, body: { orderId, lines: [{ sku: s, quantity: 3 }] } });
    expect(await product(s)).toMatchObject({ reserved: 3, available: 7 });
    // added up, a line may ask for more than there is: refused as a whole like any other
    const tooMany = await reserve(randomUUID(), [{ sku: s, quantity: 5 }, { sku: s, quantity: 5 }]);
    expect(tooMany).toMatchObject({ status: 409, body: { type: problemType('insufficient-stock'), sku: s, requested: 10, available: 7 } });
    await expectInvariantsHold();
  });

  it('requires an Idempotency-Key and valid input, and writes nothing otherwise', async () => {
    const s = sku('v');
    await putProduct(s, 10);
    const orderId = randomUUID();
    const noKey = await call(url, 'POST', '/reservations', { body: { orderId, lines: [{ sku: s, quantity: 1 }] } });
    expect(noKey.status).toBe(400);
    expect(noKey.body.type).toBe(problemType('idempotency-key-required'));

    const invalidBodies = [
      { orderId: 'not-a-uuid', lines: [{ sku: s, quantity: 1 }] },
      { orderId, lines: [] },
      { orderId, lines: [{ sku: s, quantity: 0 }] },
      { orderId, lines: Array.from({ length: 101 }, (_, i) => ({ sku: `s${i}`, quantity: 1 })) },
      { orderId, lines: [{ sku: 'bad sku!', quantity: 1 }] },
    ];
    const key = newKey();
    for (const body of invalidBodies) {
      const res = await call(url, 'POST', '/reservations', { key, body });
      expect(res.status).toBe(400);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body.errors.length).toBeGreaterThan(0);
    }
    expect(await count('inventory.reservations WHERE order_id = $1', [orderId])).toBe(0);
    expect(await count('inventory.idempotency_keys WHERE key = $1', [key])).toBe(0);
    expect(await product(s)).toMatchObject({ reserved: 0 });
    // the key was never consumed, so it still works for a valid request
    expect((await call(url, 'POST', '/reservations', { key, body: { orderId, lines: [{ sku: s, quantity: 1 }] } })).status).toBe(201);
  });

  it('replays the first answer for a repeated key and reserves once', async () => {
    const s = sku('replay');
    await putProduct(s, 10);
    const orderId = randomUUID();
    const key = newKey();
    const first = await reserve(orderId, [{ sku: s, quantity: 3 }], key);
    const second = await reserve(orderId, [{ sku: s, quantity: 3 }], key);
    expect(first.replayed).toBe(false);
    expect(second).toEqual({ ...first, replayed: true });
    expect(await product(s)).toMatchObject({ reserved: 3 });
    expect(await count('inventory.reservations WHERE order_id = $1', [orderId])).toBe(1);
  });

  it('answers 422 when a key is reused for a different request', async () => {
    const s = sku('reuse');
    await putProduct(s, 10);
    const key = newKey();
    expect((await reserve(randomUUID(), [{ sku: s, quantity: 1 }], key)).status).toBe(201);
    const reused = await reserve(randomUUID(), [{ sku: s, quantity: 2 }], key);
    expect(reused.status).toBe(422);
    expect(reused.body.type).toBe(problemType('idempotency-key-reused'));
    expect(await product(s)).toMatchObject({ reserved: 1 });
  });

  it('has exactly one effect for concurrent duplicates of one key', async () => {
    const s = sku('dup');
    await putProduct(s, 100);
    const orderId = randomUUID();
    const key = newKey();
    const answers = await Promise.all(Array.from({ length: 10 }, () => reserve(orderId, [{ sku: s, quantity: 5 }], key)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201));
    expect(answers.filter((a) => !a.replayed)).toHaveLength(1);
    for (const a of answers) expect(a.body).toEqual(answers[0]!.body);
    expect(await product(s)).toMatchObject({ reserved: 5 });
    expect(await count('inventory.reservations WHERE order_id = $1', [orderId])).toBe(1);
  });

  it('is all or nothing: one short line reserves nothing and leaves stock untouched', async () => {
    const [plenty, scarce] = [sku('plenty'), sku('scarce')];
    await putProduct(plenty, 10);
    await putProduct(scarce, 1);
    const orderId = randomUUID();
    const key = newKey();
    const res = await reserve(orderId, [{ sku: plenty, quantity: 2 }, { sku: scarce, quantity: 2 }], key);
    expect(res.status).toBe(409);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body).toMatchObject({ type: problemType('insufficient-stock'), sku: scarce, requested: 2, available: 1 });
    expect(await product(plenty)).toMatchObject({ stock: 10, reserved: 0 });
    expect(await product(scarce)).toMatchObject({ stock: 1, reserved: 0 });
    expect((await call(url, 'GET', `/reservations/${orderId}`)).status).toBe(404);
    // the refusal is stored under the key: a retry gets the same answer even if stock arrives meanwhile
    await putProduct(scarce, 5);
    expect(await reserve(orderId, [{ sku: plenty, quantity: 2 }, { sku: scarce, quantity: 2 }], key)).toEqual({ ...res, replayed: true });
  });

  it('answers 422 unknown-sku and reserves nothing', async () => {
    const known = sku('known');
    await putProduct(known, 10);
    const missing = sku('missing');
    const res = await reserve(randomUUID(), [{ sku: known, quantity: 1 }, { sku: missing, quantity: 1 }]);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ type: problemType('unknown-sku'), sku: missing });
    expect(await product(known)).toMatchObject({ reserved: 0 });
  });

  it('holds at most one reservation per order', async () => {
    const s = sku('once');
    await putProduct(s, 10);
    const orderId = randomUUID();
    expect((await reserve(orderId, [{ sku: s, quantity: 1 }])).status).toBe(201);
    const again = await reserve(orderId, [{ sku: s, quantity: 1 }]);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ type: problemType('reservation-exists'), orderId, reservationStatus: 'RESERVED' });
    expect(await product(s)).toMatchObject({ reserved: 1 });
  });

  it('lets exactly one of many concurrent orders take the last unit', async () => {
    const s = sku('last');
    await putProduct(s, 1);
    const answers = await Promise.all(Array.from({ length: 8 }, () => reserve(randomUUID(), [{ sku: s, quantity: 1 }])));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409 && a.body.type === problemType('insufficient-stock'))).toHaveLength(7);
    expect(await product(s)).toMatchObject({ stock: 1, reserved: 1, available: 0 });
  });

  it('lets exactly one of several orders for one order id win under concurrency', async () => {
    const s = sku('race');
    await putProduct(s, 10);
    const orderId = randomUUID();
    const answers = await Promise.all(Array.from({ length: 6 }, () => reserve(orderId, [{ sku: s, quantity: 2 }])));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.body.type === problemType('reservation-exists'))).toHaveLength(5);
    expect(await product(s)).toMatchObject({ reserved: 2 });
  });

  it('does not deadlock when orders list the same skus in opposite order', async () => {
    const [a, b] = [sku('x'), sku('y')];
    await putProduct(a, 1_000);
    await putProduct(b, 1_000);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      reserve(randomUUID(), i % 2 ? [{ sku: a, quantity: 1 }, { sku: b, quantity: 1 }] : [{ sku: b, quantity: 1 }, { sku: a, quantity: 1 }])));
    expect(answers.map((x) => x.status)).toEqual(Array(20).fill(201));
    expect(await product(a)).toMatchObject({ reserved: 20 });
    expect(await product(b)).toMatchObject({ reserved: 20 });
  });

  it('answers 404 for an unknown reservation and 400 for a malformed order id', async () => {
    expect((await call(url, 'GET', `/reservations/${randomUUID()}`)).body.type).toBe(problemType('reservation-not-found'));
    expect((await call(url, 'GET', '/reservations/42')).status).toBe(400);
  });
});

describe('release and commit', () => {
  async function reservedOrder(quantity: number, stock = 10) {
    const s = sku('flow');
    await putProduct(s, stock);
    const orderId = randomUUID();
    expect((await reserve(orderId, [{ sku: s, quantity }])).status).toBe(201);
    return { s, orderId };
  }
  const release = (orderId: string, key = newKey()) => call(url, 'POST', `/reservations/${orderId}/release`, { key });
  const commit = (orderId: string, key = newKey()) => call(url, 'POST', `/reservations/${orderId}/commit`, { key });

  it('release gives the units back; releasing again is a no-op; commit is then refused', async () => {
    const { s, orderId } = await reservedOrder(4);
    const released = await release(orderId);
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({ orderId, status: 'RELEASED' });
    expect(await product(s)).toMatchObject({ stock: 10, reserved: 0, available: 10 });

    const again = await release(orderId);
    expect(again).toMatchObject({ status: 200, replayed: false, body: { status: 'RELEASED' } });
    expect(await product(s)).toMatchObject({ reserved: 0 });

    const late = await commit(orderId);
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ type: problemType('reservation-released'), reservationStatus: 'RELEASED' });
    expect(await product(s)).toMatchObject({ stock: 10, reserved: 0 });
  });

  it('commit takes the units out of stock; committing again is a no-op; release is then refused', async () => {
    const { s, orderId } = await reservedOrder(3);
    const committed = await commit(orderId);
    expect(committed).toMatchObject({ status: 200, body: { orderId, status: 'COMMITTED' } });
    expect(await product(s)).toMatchObject({ stock: 7, reserved: 0, available: 7 });

    expect(await commit(orderId)).toMatchObject({ status: 200, body: { status: 'COMMITTED' } });
    expect(await product(s)).toMatchObject({ stock: 7 });

    const late = await release(orderId);
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ type: problemType('reservation-committed'), reservationStatus: 'COMMITTED' });
    expect((await call(url, 'GET', `/reservations/${orderId}`)).body.status).toBe('COMMITTED');
  });

  it('replays a release with the same key without giving units back twice', async () => {
    const { s, orderId } = await reservedOrder(2, 2);
    const key = newKey();
    const answers = await Promise.all(Array.from({ length: 5 }, () => release(orderId, key)));
    expect(answers.map((a) => a.status)).toEqual(Array(5).fill(200));
    expect(answers.filter((a) => a.replayed)).toHaveLength(4);
    expect(await product(s)).toMatchObject({ stock: 2, reserved: 0 });
  });

  it('answers 404 reservation-not-found for an order never reserved, and stores that answer', async () => {
    const orderId = randomUUID();
    const key = newKey();
    const first = await release(orderId, key);
    expect(first.status).toBe(404);
    expect(first.contentType).toContain('application/problem+json');
    expect(first.body).toMatchObject({ type: problemType('reservation-not-found'), orderId });
    expect(await release(orderId, key)).toEqual({ ...first, replayed: true });
    // The release left a tombstone, so a commit that arrives later is refused as a released order (it was 404).
    expect((await commit(orderId)).body).toMatchObject({ status: 409, type: problemType('reservation-released') });
  });

  it('requires an Idempotency-Key', async () => {
    const { orderId } = await reservedOrder(1);
    const res = await call(url, 'POST', `/reservations/${orderId}/commit`);
    expect(res.status).toBe(400);
    expect((await call(url, 'GET', `/reservations/${orderId}`)).body.status).toBe('RESERVED');
  });
});

describe('late answers: a release fences the order', () => {
  const release = (orderId: string, key = newKey()) => call(url, 'POST', `/reservations/${orderId}/release`, { key });
  const commit = (orderId: string, key = newKey()) => call(url, 'POST', `/reservations/${orderId}/commit`, { key });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  afterEach(async () => {
    await call(url, 'PUT', '/test/faults', { body: { latencyMs: 0, failNextRequests: 0 } });
  });

  it('refuses a reserve that lands after its order was released (409 reservation-released) and reserves nothing', async () => {
    const s = sku('late');
    await putProduct(s, 5);
    const orderId = randomUUID();
    const key = newKey();
    // The reserve is held back before it runs (a slow service; its caller has long given up) ...
    await call(url, 'PUT', '/test/faults', { body: { latencyMs: 1_000 } });
    const lateReserve = reserve(orderId, [{ sku: s, quantity: 2 }], key);
    await sleep(200);
    await call(url, 'PUT', '/test/faults', { body: { latencyMs: 0 } });
    // ... the saga undoes the order: there is nothing to release yet ...
    const released = await release(orderId);
    expect(released).toMatchObject({ status: 404, body: { type: problemType('reservation-not-found'), orderId } });
    // ... then the reserve runs, and must not take the stock for good.
    const late = await lateReserve;
    expect(late.status).toBe(409);
    expect(late.contentType).toContain('application/problem+json');
    expect(late.body).toMatchObject({ type: problemType('reservation-released'), orderId, reservationStatus: 'RELEASED' });
    expect(await product(s)).toMatchObject({ stock: 5, reserved: 0, available: 5 });
    expect((await call(url, 'GET', `/reservations/${orderId}`)).body).toMatchObject({ orderId, status: 'RELEASED', lines: [] });
    // the refusal is kept under the reserve's key; releasing again (new key) still finds nothing to give back
    expect(await reserve(orderId, [{ sku: s, quantity: 2 }], key)).toEqual({ ...late, replayed: true });
    expect((await release(orderId)).body).toMatchObject({ status: 404, type: problemType('reservation-not-found') });
    expect(await product(s)).toMatchObject({ reserved: 0 });
  });

  it('also refuses a new reserve for an order whose reservation was released', async () => {
    const s = sku('again');
    await putProduct(s, 5);
    const orderId = randomUUID();
    expect((await reserve(orderId, [{ sku: s, quantity: 1 }])).status).toBe(201);
    expect((await release(orderId)).status).toBe(200);
    const again = await reserve(orderId, [{ sku: s, quantity: 1 }]);
    expect(again.body).toMatchObject({ status: 409, type: problemType('reservation-released'), orderId });
    expect(await product(s)).toMatchObject({ reserved: 0 });
  });

  it('refuses a commit that lands after a release, whether or not anything had been reserved', async () => {
    const nothingReserved = randomUUID();
    expect((await release(nothingReserved)).status).toBe(404);
    expect((await commit(nothingReserved)).body).toMatchObject({ status: 409, type: problemType('reservation-released'), reservationStatus: 'RELEASED' });

    const s = sku('commit-late');
    await putProduct(s, 5);
    const orderId = randomUUID();
    expect((await reserve(orderId, [{ sku: s, quantity: 2 }])).status).toBe(201);
    expect((await release(orderId)).status).toBe(200);
    expect((await commit(orderId)).body).toMatchObject({ status: 409, type: problemType('reservation-released') });
    expect(await product(s)).toMatchObject({ stock: 5, reserved: 0 });
  });

  it('leaves nothing reserved whichever of a reserve and a release of one order runs first', async () => {
    const s = sku('race-release');
    await putProduct(s, 100);
    const orders = Array.from({ length: 12 }, () => randomUUID());
    const answers = await Promise.all(orders.map((orderId, i) => {
      const r = () => reserve(orderId, [{ sku: s, quantity: 1 }]);
      const x = () => release(orderId);
      return Promise.all(i % 2 ? [r(), x()] : [x(), r()]);
    }));
    for (const pair of answers) {
      const [a, b] = pair.map((p) => p.status).sort((x, y) => x - y);
      // reserve first: 201 then release 200; release first: 404 then reserve 409
      expect([[200, 201], [404, 409]]).toContainEqual([a, b]);
    }
    expect(await product(s)).toMatchObject({ stock: 100, reserved: 0 });
    expect(await count("inventory.reservations WHERE order_id = ANY($1::uuid[]) AND status <> 'RELEASED'", [orders])).toBe(0);
  });
});

describe('database timeouts', () => {
  // A second service on the same database whose pool gives up quickly.
  let strict: RunningInventoryService;
  const STATEMENT_TIMEOUT_MS = 2_000;
  const CONNECT_TIMEOUT_MS = 300;
  const stillWaiting = (ms: number) => new Promise<'still waiting'>((r) => setTimeout(() => r('still waiting'), ms).unref());

  beforeAll(async () => {
    strict = await startInventoryService({
      databaseUrl: db.url, port: 0, logger: testLogger('inventory-strict'),
      databaseStatementTimeoutMs: STATEMENT_TIMEOUT_MS, databaseConnectTimeoutMs: CONNECT_TIMEOUT_MS, callers: TEST_CALLERS, testMode: true,
    });
  });
  afterAll(() => strict?.stop());

  /** Holds the lock every change to one order's reservation takes, as a long transaction would. */
  async function holdOrderLock(orderId: string) {
    const holder = await pool.connect();
    await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`inventory:reservation:${orderId}`]);
    return async () => {
      await holder.query('SELECT pg_advisory_unlock_all()');
      holder.release();
    };
  }

  it('cancels a statement that runs longer than the statement timeout: a retryable 500 that writes nothing', async () => {
    const s = sku('stuck');
    await putProduct(s, 5);
    const orderId = randomUUID();
    const key = newKey();
    const unlock = await holdOrderLock(orderId);
    const stuck = call(strict.url, 'POST', '/reservations', { key, body: { orderId, lines: [{ sku: s, quantity: 1 }] } });
    try {
      const answer = await Promise.race([stuck, stillWaiting(STATEMENT_TIMEOUT_MS + 3_000)]);
      expect(answer).toMatchObject({ status: 500, body: { type: problemType('internal') } });
    } finally {
      await unlock();
      await stuck;
    }
    expect(await product(s)).toMatchObject({ reserved: 0 });
    // nothing was kept under the key: the retry does the work
    expect((await call(strict.url, 'POST', '/reservations', { key, body: { orderId, lines: [{ sku: s, quantity: 1 }] } })).status).toBe(201);
  });

  it('answers at once when no pooled connection frees up within the connect timeout', async () => {
    const s = sku('busy');
    await putProduct(s, 50);
    const orderId = randomUUID();
    const unlock = await holdOrderLock(orderId);
    // pg's default pool size is 10: ten calls that wait for the order's lock hold every connection
    const blocked = Array.from({ length: 10 }, () => call(strict.url, 'POST', '/reservations', { key: newKey(), body: { orderId, lines: [{ sku: s, quantity: 1 }] } }));
    try {
      const deadline = Date.now() + 5_000;
      while (await count("pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())") < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const started = Date.now();
      const answer = await Promise.race([call(strict.url, 'GET', '/readyz'), stillWaiting(STATEMENT_TIMEOUT_MS + 3_000)]);
      expect(answer).toMatchObject({ status: 503, body: { type: problemType('not-ready') } });
      expect(Date.now() - started).toBeLessThan(STATEMENT_TIMEOUT_MS);
    } finally {
      await unlock();
      await Promise.all(blocked);
    }
    expect(await call(strict.url, 'GET', '/readyz')).toMatchObject({ status: 200 });
  });
});

describe('fault injection', () => {
  afterEach(async () => {
    await call(url, 'PUT', '/test/faults', { body: { latencyMs: 0, failNextRequests: 0 } });
  });

  it('fails the next mutating call with 503 and writes nothing', async () => {
    const s = sku('fault');
    await putProduct(s, 5);
    expect(await call(url, 'PUT', '/test/faults', { body: { failNextRequests: 1 } })).toMatchObject({ status: 200, body: { failNextRequests: 1, latencyMs: 0 } });
    const orderId = randomUUID();
    const key = newKey();
    const failed = await reserve(orderId, [{ sku: s, quantity: 1 }], key);
    expect(failed.status).toBe(503);
    expect(failed.body.type).toBe(problemType('injected-fault'));
    expect(await product(s)).toMatchObject({ reserved: 0 });
    // a retry with the same key is the normal recovery
    expect((await reserve(orderId, [{ sku: s, quantity: 1 }], key)).status).toBe(201);
    expect((await call(url, 'GET', '/test/faults')).body).toEqual({ latencyMs: 0, failNextRequests: 0 });
  });

  it('slows mutating calls down by latencyMs', async () => {
    const s = sku('slow');
    await call(url, 'PUT', '/test/faults', { body: { latencyMs: 300 } });
    const started = Date.now();
    await putProduct(s, 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});

describe('invariants', () => {
  it('stock and reserved are never negative and reserved matches open reservations', async () => {
    await expectInvariantsHold();
  });
});
