import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { Pool } from 'pg';
import pino from 'pino';
import { createInventoryApp } from '../../services/inventory/app';
import { startInventoryService, type RunningInventoryService } from '../../services/inventory/server';
import { createPaymentApp } from '../../services/payment/app';
import { startPaymentService, type RunningPaymentService } from '../../services/payment/server';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { call, newKey, problemType, testLogger } from './http-helpers';
import { cleanUp } from '../harness/clean-up';

/**
 * The peers are not open: every call but health and the OpenAPI document needs the token of a
 * known caller (a shared secret per caller); /test/* exists only in test mode; undeclared methods
 * on known paths are 405 with Allow; /openapi.json describes exactly the routes the app has.
 */
const INVENTORY_CALLERS = new Map([['api', `api-token-${randomUUID()}`], ['worker', `inventory-worker-token-${randomUUID()}`], ['tools', `inventory-tools-token-${randomUUID()}`]]);
const PAYMENT_CALLERS = new Map([['api', `payment-api-token-${randomUUID()}`], ['worker', `payment-worker-token-${randomUUID()}`], ['tools', `payment-tools-token-${randomUUID()}`]]);
const token = (callers: Map<string, string>, caller: string) => callers.get(caller)!;

/** A logger whose lines the test can read. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } });
  return { logger, lines };
}

let db: TestDatabase;
let inventory: RunningInventoryService;
let inventoryInTestMode: RunningInventoryService;
let payment: RunningPaymentService;
let paymentInTestMode: RunningPaymentService;
const inventoryLog = capturingLogger();

beforeAll(async () => {
  db = await createTestDatabase('peer_security');
  inventory = await startInventoryService({ databaseUrl: db.url, port: 0, logger: inventoryLog.logger, callers: INVENTORY_CALLERS });
  inventoryInTestMode = await startInventoryService({ databaseUrl: db.url, port: 0, logger: testLogger('inventory-test-mode'), callers: INVENTORY_CALLERS, testMode: true });
  payment = await startPaymentService({ databaseUrl: db.url, port: 0, logger: testLogger('payment'), callers: PAYMENT_CALLERS });
  paymentInTestMode = await startPaymentService({ databaseUrl: db.url, port: 0, logger: testLogger('payment-test-mode'), callers: PAYMENT_CALLERS, testMode: true });
});

afterAll(() => cleanUp(
  () => Promise.all([inventory?.stop(), inventoryInTestMode?.stop(), payment?.stop(), paymentInTestMode?.stop()]),
  () => db?.drop(),
));

describe('caller credentials', () => {
  it('refuses a call without a token with 401 problem+json and a Bearer challenge', async () => {
    for (const [url, path] of [[inventory.url, '/products'], [payment.url, `/payments?orderId=${randomUUID()}`]] as const) {
      const res = await fetch(url + path);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="(inventory|payment)"$/);
      expect(await res.json()).toMatchObject({ type: problemType('unauthenticated'), status: 401 });
    }
  });

  it('refuses a wrong token, another service\'s caller token, and a malformed header; writes nothing', async () => {
    const sku = `SEC-${randomUUID().slice(0, 8)}`;
    const product = { name: 'Price we would charge', priceCents: 1, stock: 5 };
    for (const headers of [
      { authorization: `Bearer ${token(INVENTORY_CALLERS, 'api')}x` },
      { authorization: `Bearer ${token(PAYMENT_CALLERS, 'worker')}` }, // the worker's token, but the payment service's
      { authorization: token(INVENTORY_CALLERS, 'api') }, // no scheme
      { authorization: `Basic ${Buffer.from(`api:${token(INVENTORY_CALLERS, 'api')}`).toString('base64')}` },
    ]) {
      expect((await call(inventory.url, 'PUT', `/products/${sku}`, { token: null, headers, body: product })).status).toBe(401);
    }
    expect((await call(payment.url, 'POST', `/orders/${randomUUID()}/payment/void`, { token: token(INVENTORY_CALLERS, 'worker'), key: newKey(), body: {} })).status).toBe(401);
    expect((await call(inventory.url, 'GET', `/products/${sku}`, { token: token(INVENTORY_CALLERS, 'api') })).status).toBe(404);
  });

  it('serves each caller with its own token and logs which caller called', async () => {
    const sku = `SEC-${randomUUID().slice(0, 8)}`;
    const put = await call(inventory.url, 'PUT', `/products/${sku}`, { token: token(INVENTORY_CALLERS, 'tools'), body: { name: 'Mug', priceCents: 990, stock: 3 } });
    expect(put.status).toBe(200);
    const read = await call(inventory.url, 'GET', `/products/${sku}`, { token: token(INVENTORY_CALLERS, 'api') });
    expect(read).toMatchObject({ status: 200, body: { sku, priceCents: 990 } });
    expect(inventoryLog.lines).toContainEqual(expect.objectContaining({ caller: 'tools', method: 'PUT', path: `/products/${sku}`, status: 200 }));
    expect(inventoryLog.lines).toContainEqual(expect.objectContaining({ caller: 'api', method: 'GET', path: `/products/${sku}`, status: 200 }));
    expect(JSON.stringify(inventoryLog.lines)).not.toContain(token(INVENTORY_CALLERS, 'api'));
    const payments = await call(payment.url, 'GET', `/payments?orderId=${randomUUID()}`, { token: token(PAYMENT_CALLERS, 'worker') });
    expect(payments).toMatchObject({ status: 200, body: { payment: null } });
  });

  it('lets each caller do only what it is for: the API reads the catalog, the worker runs the saga\'s steps (403 otherwise)', async () => {
    const sku = `PERM-${randomUUID().slice(0, 8)}`;
    const [api, worker, tools] = (['api', 'worker', 'tools'] as const).map((c) => token(INVENTORY_CALLERS, c));
    expect((await call(inventory.url, 'PUT', `/products/${sku}`, { token: tools, body: { name: 'Mug', priceCents: 500, stock: 2 } })).status).toBe(200);
    expect((await call(inventory.url, 'GET', `/products/${sku}`, { token: api })).status).toBe(200);
    for (const [who, method, path, body] of [
      [api, 'PUT', `/products/${sku}`, { name: 'Mug', priceCents: 1, stock: 2 }], // a leaked API token cannot set prices
      [api, 'POST', '/reservations', { orderId: randomUUID(), lines: [{ sku, quantity: 1 }] }],
      [worker, 'PUT', `/products/${sku}`, { name: 'Mug', priceCents: 1, stock: 2 }],
      [worker, 'GET', '/products', undefined],
    ] as const) {
      const res = await call(inventory.url, method, path, { token: who, key: newKey(), body });
      expect({ method, path, status: res.status, type: res.body?.type }).toEqual({ method, path, status: 403, type: problemType('caller-not-allowed') });
    }
    expect((await call(inventory.url, 'GET', `/products/${sku}`, { token: api })).body).toMatchObject({ priceCents: 500 }); // unchanged
    const reservedOrderId = randomUUID();
    const reserved = await call(inventory.url, 'POST', '/reservations', { token: worker, key: newKey(), body: { orderId: reservedOrderId, lines: [{ sku, quantity: 1 }] } });
    expect(reserved.status).toBeLessThan(300);
    // The API reads an order's reservation (the operator inspection) but cannot change it.
    expect((await call(inventory.url, 'GET', `/reservations/${reservedOrderId}`, { token: api })).body).toMatchObject({ status: 'RESERVED' });
    const release = await call(inventory.url, 'POST', `/reservations/${reservedOrderId}/release`, { token: api, key: newKey() });
    expect({ status: release.status, type: release.body?.type }).toEqual({ status: 403, type: problemType('caller-not-allowed') });
    // Payment: the worker's steps, not the test routes (those are the tools caller's, in test mode).
    expect((await call(paymentInTestMode.url, 'PUT', '/test/faults', { token: token(PAYMENT_CALLERS, 'worker'), body: { failNextRequests: 0 } })).status).toBe(403);
    expect((await call(payment.url, 'GET', `/payments?orderId=${randomUUID()}`, { token: token(PAYMENT_CALLERS, 'worker') })).status).toBe(200);
    // The API only reads an order's payment (the operator inspection).
    expect((await call(payment.url, 'GET', `/payments?orderId=${randomUUID()}`, { token: token(PAYMENT_CALLERS, 'api') })).status).toBe(200);
    const authorize = await call(payment.url, 'POST', '/payments/authorize', { token: token(PAYMENT_CALLERS, 'api'), key: newKey(), body: { orderId: randomUUID(), amountCents: 100, currency: 'EUR', token: 'tok_visa' } });
    expect(authorize.status).toBe(403);
  });

  it('refuses to start with a caller token for a caller that has no permissions', () => {
    const pool = new Pool({ connectionString: db.url });
    try {
      expect(() => createInventoryApp({ pool, logger: testLogger('perm'), callers: new Map([['billing', 'some-token-of-16-chars']]) }))
        .toThrow(/billing, which have no permissions/);
      // A suffixed name is its role (rotation: worker-next alongside worker).
      expect(() => createInventoryApp({ pool, logger: testLogger('perm'), callers: new Map([['worker-next', 'some-token-of-16-chars']]) })).not.toThrow();
    } finally {
      void pool.end();
    }
  });

  it('keeps health and the OpenAPI document open', async () => {
    for (const url of [inventory.url, payment.url]) {
      expect((await call(url, 'GET', '/healthz', { token: null })).status).toBe(200);
      expect((await call(url, 'GET', '/readyz', { token: null })).status).toBe(200);
      expect((await call(url, 'GET', '/openapi.json', { token: null })).body.openapi).toBe('3.1.0');
    }
  });
});

describe('test mode', () => {
  const workerToken = token(INVENTORY_CALLERS, 'tools'); // test routes are the tools caller's
  const paymentToken = token(PAYMENT_CALLERS, 'tools');

  it('has no /test routes outside test mode: 404 like any unknown path', async () => {
    for (const method of ['GET', 'PUT']) {
      const res = await call(inventory.url, method, '/test/faults', { token: workerToken, body: method === 'PUT' ? { failNextRequests: 1 } : undefined });
      expect(res).toMatchObject({ status: 404, body: { type: problemType('not-found') } });
    }
    expect((await call(payment.url, 'PUT', '/test/faults', { token: paymentToken, body: { failNextRequests: 1 } })).status).toBe(404);
    expect((await call(payment.url, 'POST', `/test/3ds/${randomUUID()}`, { token: paymentToken, body: { outcome: 'complete' } })).status).toBe(404);
    const doc = (await call(payment.url, 'GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/test/'))).toEqual([]);
  });

  it('serves /test routes in test mode, to callers with a token only', async () => {
    expect((await call(inventoryInTestMode.url, 'GET', '/test/faults', { token: null })).status).toBe(401);
    expect(await call(inventoryInTestMode.url, 'GET', '/test/faults', { token: workerToken })).toMatchObject({ status: 200, body: { latencyMs: 0, failNextRequests: 0 } });
    expect((await call(paymentInTestMode.url, 'POST', `/test/3ds/${randomUUID()}`, { token: null, body: { outcome: 'complete' } })).status).toBe(401);
    const threeDs = await call(paymentInTestMode.url, 'POST', `/test/3ds/${randomUUID()}`, { token: paymentToken, body: { outcome: 'complete' } });
    expect(threeDs).toMatchObject({ status: 404, body: { type: problemType('payment-not-found') } }); // the route ran: no payment for this order
    const doc = (await call(paymentInTestMode.url, 'GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/test/faults', '/test/3ds/{orderId}']));
  });
});

describe('methods', () => {
  it('answers 405 problem+json with Allow for a method a known path does not declare', async () => {
    const workerToken = token(INVENTORY_CALLERS, 'worker');
    const cases: [string, string, string, string][] = [
      [inventory.url, 'DELETE', '/products/MUG-001', 'GET, PUT, HEAD'],
      [inventory.url, 'PATCH', '/reservations', 'POST'],
      [inventory.url, 'GET', `/reservations/${randomUUID()}/commit`, 'POST'],
      [inventory.url, 'POST', '/healthz', 'GET, HEAD'],
    ];
    for (const [url, method, path, allow] of cases) {
      const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${workerToken}` } });
      expect({ path, method, status: res.status, allow: res.headers.get('allow'), type: res.headers.get('content-type') })
        .toEqual({ path, method, status: 405, allow, type: expect.stringContaining('application/problem+json') });
    }
    const res = await fetch(`${payment.url}/payments/authorize`, { method: 'GET', headers: { authorization: `Bearer ${token(PAYMENT_CALLERS, 'worker')}` } });
    expect([res.status, res.headers.get('allow')]).toEqual([405, 'POST']);
    expect((await call(inventory.url, 'DELETE', '/no-such-path', { token: token(INVENTORY_CALLERS, 'tools') })).status).toBe(404);
    expect((await call(inventory.url, 'DELETE', '/no-such-path', { token: workerToken })).status).toBe(403); // not one of the worker's calls
  });
});

/** Every "METHOD /path/{param}" the express app routes, read from its router stack. */
function routesOf(app: Express): string[] {
  interface Layer { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } }
  const walk = (stack: Layer[]): string[] => stack.flatMap((layer) => {
    if (layer.route) {
      const path = layer.route.path.replace(/:([A-Za-z]+)/g, '{$1}');
      return Object.keys(layer.route.methods).filter((m) => m !== '_all').map((m) => `${m.toUpperCase()} ${path}`);
    }
    return layer.handle?.stack ? walk(layer.handle.stack) : [];
  });
  return walk((app as unknown as { router: { stack: Layer[] } }).router.stack).sort();
}
const documented = (doc: { paths: Record<string, Record<string, unknown>> }) =>
  Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();

describe('/openapi.json', () => {
  const pool = new Pool({ connectionString: 'postgresql://unused@127.0.0.1:1/unused' }); // never queried
  afterAll(() => pool.end());
  const logger = testLogger('openapi');

  it.each([false, true])('lists exactly the routes each app has (test mode %s)', async (testMode) => {
    const apps = {
      inventory: createInventoryApp({ pool, logger, callers: INVENTORY_CALLERS, testMode }),
      payment: createPaymentApp({ pool, logger, callers: PAYMENT_CALLERS, testMode }),
    };
    for (const [name, app] of Object.entries(apps)) {
      const server = app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      try {
        const { port } = server.address() as { port: number };
        const doc = (await call(`http://127.0.0.1:${port}`, 'GET', '/openapi.json')).body;
        expect({ name, routes: documented(doc) }).toEqual({ name, routes: routesOf(app) });
        expect(doc.components.securitySchemes.callerToken).toMatchObject({ type: 'http', scheme: 'bearer' });
      } finally {
        await new Promise((r) => server.close(r));
      }
    }
  });

  it('states the rules the services enforce', async () => {
    const doc = (await call(inventory.url, 'GET', '/openapi.json')).body;
    const reserve = doc.paths['/reservations'].post;
    const lines = reserve.requestBody.content['application/json'].schema.properties.lines;
    expect(lines).toMatchObject({ minItems: 1, maxItems: 100, items: { additionalProperties: false, required: ['sku', 'quantity'] } });
    expect(reserve.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true }));
    expect(Object.keys(reserve.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '409', '422']));
  });
});
