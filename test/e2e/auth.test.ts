import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { keyIdOf, revokeApiKey, secretOf } from '../../api/api-keys';
import { startApi } from '../../api/server';
import type { Config } from '../../common/config';
import { ensureDevApiKeys } from '../../scripts/dev/dev-api-keys';
import { REPO_ROOT } from '../../scripts/infra';
import { startFullSystem, type FullSystem } from '../harness/full-system';
import { quietLogger, waitFor } from '../harness/system';

/**
 * Who may call the API, against the real system: API keys (401 without one, 403 without the
 * scope), tenancy (a shop sees only its own orders), Idempotency-Keys per client, the per-client
 * POST rate limit shared by API processes, and the operator's `apikey` commands.
 */
describe('API keys, tenancy and rate limits', () => {
  let sys: FullSystem;
  let sku: string;
  const customer = { customerId: 'cust-auth', customerEmail: 'auth@shop.example', currency: 'EUR' };

  beforeAll(async () => {
    sys = await startFullSystem();
    sku = `AUTH-${randomUUID().slice(0, 8)}`;
    await sys.peers.inventory.upsertProduct(sku, { name: sku, priceCents: 500, stock: 100 });
  });
  afterAll(() => sys?.stop());

  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const get = (path: string, headers: Record<string, string> = {}, baseUrl = sys.apiUrl) => fetch(`${baseUrl}${path}`, { headers });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}, baseUrl = sys.apiUrl) =>
    fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const orderBody = () => ({ ...customer, items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' } });

  async function place(key: string, headers: Record<string, string> = {}): Promise<string> {
    const res = await post('/orders', orderBody(), { ...bearer(key), ...headers });
    expect(res.status).toBe(202);
    return ((await res.json()) as { orderId: string }).orderId;
  }

  async function expectProblem(res: Response, status: number, slug: string) {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status, type: expect.stringMatching(new RegExp(`/${slug}$`)) });
  }

  it('answers 401 problem+json with WWW-Authenticate on every route but /healthz without a valid key', async () => {
    const id = randomUUID();
    const calls: [string, string][] = [
      ['GET', '/orders'], ['POST', '/orders'], ['GET', `/orders/${id}`], ['POST', `/orders/${id}/cancel`],
      ['GET', '/analytics/summary'], ['GET', '/metrics'], ['GET', '/openapi.json'], ['GET', '/no-such-route'], ['DELETE', '/orders'], ['GET', '/readyz'], ['POST', '/codec/decode'],
    ];
    const unknownKey = `ook_${'0'.repeat(16)}_${'A'.repeat(43)}`;
    const badHeaders: [Record<string, string>, RegExp][] = [
      [{}, /^Bearer realm="[^"]+"$/],
      [{ authorization: `Basic ${Buffer.from('shop:secret').toString('base64')}` }, /error="invalid_token"/],
      [{ authorization: 'Bearer not-a-key' }, /error="invalid_token"/],
      [bearer(unknownKey), /error="invalid_token"/],
      [bearer(`${sys.shopKey.slice(0, -1)}${sys.shopKey.endsWith('A') ? 'B' : 'A'}`), /error="invalid_token"/], // right id, wrong secret
    ];
    for (const [method, path] of calls) {
      for (const [headers, challenge] of badHeaders) {
        const res = await fetch(`${sys.apiUrl}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(method === 'POST' ? { body: '{}' } : {}) });
        expect([method, path, headers, res.status]).toEqual([method, path, headers, 401]);
        expect(res.headers.get('www-authenticate')).toMatch(challenge);
        await expectProblem(res, 401, Object.keys(headers).length ? 'invalid-api-key' : 'unauthenticated');
      }
    }
    expect(await (await get('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await get('/readyz', { authorization: `Bearer ${sys.shopKey}` })).status).toBe(200); // any valid key
    // The payment provider's webhook has its own (signature) authentication, not an API key.
    const webhook = await post('/webhooks/payments', {});
    expect(webhook.headers.get('www-authenticate')).toBeNull();
    expect(await webhook.json()).toMatchObject({ type: expect.stringMatching(/\/invalid-signature$/) });
  });

  it('refuses a revoked key from the moment it is revoked', async () => {
    const key = await sys.createApiKey('shop-revoked');
    expect((await get('/orders', bearer(key))).status).toBe(200);
    await revokeApiKey(sys.peers.db, keyIdOf(key)!);
    const res = await get('/orders', bearer(key));
    expect(res.headers.get('www-authenticate')).toMatch(/invalid_token/);
    await expectProblem(res, 401, 'invalid-api-key');
  });

  it('keeps analytics and metrics to operators (403 for a shop)', async () => {
    for (const path of ['/analytics/summary', '/metrics']) {
      await expectProblem(await get(path, bearer(sys.shopKey)), 403, 'forbidden');
      expect((await get(path, bearer(sys.operatorKey))).status).toBe(200);
    }
    const row = await sys.peers.db.apiKey.findUniqueOrThrow({ where: { id: keyIdOf(sys.operatorKey)! } });
    expect(row.lastUsedAt).not.toBeNull();
    expect(row.secretHash).not.toContain(secretOf(sys.operatorKey)!);
  });

  it('keeps each shop to its own orders: another shop gets 404 and does not list them; operators read all', async () => {
    const [shopA, shopB] = [await sys.createApiKey('shop-a'), await sys.createApiKey('shop-b')];
    const orderId = await place(shopA);
    expect(await sys.peers.db.order.findUnique({ where: { id: orderId }, select: { clientId: true } }).then((o) => o?.clientId ?? 'not yet'))
      .toMatch(/^(shop-a|not yet)$/);

    // Right after the start (row maybe not written yet) and once recorded: the same answers.
    for (const moment of ['at once', 'recorded']) {
      if (moment === 'recorded') {
        for (let i = 0; i < 100 && !(await sys.peers.db.order.findUnique({ where: { id: orderId } })); i++) await new Promise((r) => setTimeout(r, 100));
      }
      expect((await get(`/orders/${orderId}`, bearer(shopA))).status).toBe(200);
      await expectProblem(await get(`/orders/${orderId}`, bearer(shopB)), 404, 'order-not-found');
      // The header that used to name the client decides nothing.
      await expectProblem(await get(`/orders/${orderId}`, { ...bearer(shopB), 'x-client-id': 'shop-a' }), 404, 'order-not-found');
    }
    expect(await (await get(`/orders/${orderId}`, bearer(shopA))).json()).toMatchObject({ orderId, clientId: 'shop-a' });
    expect(await (await get(`/orders/${orderId}`, bearer(sys.operatorKey))).json()).toMatchObject({ orderId, clientId: 'shop-a' });

    const ids = async (key: string, query = '') =>
      ((await (await get(`/orders?limit=100${query}`, bearer(key))).json()) as { items: { orderId: string; clientId: string }[] }).items;
    expect((await ids(shopA)).map((o) => o.orderId)).toContain(orderId);
    expect((await ids(shopA)).every((o) => o.clientId === 'shop-a')).toBe(true);
    expect((await ids(shopB)).map((o) => o.orderId)).not.toContain(orderId);
    expect((await ids(shopB, `&customerId=${customer.customerId}`)).map((o) => o.orderId)).not.toContain(orderId);
    await expectProblem(await get('/orders?clientId=shop-a', bearer(shopB)), 403, 'forbidden');
    expect((await ids(sys.operatorKey, '&clientId=shop-a')).map((o) => o.orderId)).toEqual([orderId]);
    expect((await ids(sys.operatorKey)).map((o) => o.orderId)).toContain(orderId);

    await expectProblem(await post(`/orders/${orderId}/cancel`, {}, bearer(shopB)), 404, 'order-not-found');
    await expectProblem(await post(`/orders/${orderId}/cancel`, {}, { ...bearer(shopB), 'idempotency-key': randomUUID() }), 404, 'order-not-found');
    // Operators cancel through the workflow engine (OPERATOR_CANCELLED), not as the shop.
    await expectProblem(await post(`/orders/${orderId}/cancel`, {}, bearer(sys.operatorKey)), 403, 'forbidden');
    const row = await sys.peers.db.order.findUnique({ where: { id: orderId } });
    expect(row?.cancelReasonCode ?? null).not.toBe('CUSTOMER_CANCELLED');
  });

  it('scopes Idempotency-Keys by the authenticated client: the same key from two shops makes two orders', async () => {
    const [shopC, shopD] = [await sys.createApiKey('shop-c'), await sys.createApiKey('shop-d')];
    const key = randomUUID();
    const first = await place(shopC, { 'idempotency-key': key });
    const second = await place(shopD, { 'idempotency-key': key });
    expect(second).not.toBe(first);
    expect(await place(shopC, { 'idempotency-key': key })).toBe(first); // a retry of one shop's request
    await expectProblem(await get(`/orders/${first}`, bearer(shopD)), 404, 'order-not-found');
  });

  it('limits POSTs per client, counted across API processes: 429 problem+json with RateLimit and Retry-After', async () => {
    const limited = { ...sys.apiConfig, API_PORT: 0, API_RATE_LIMIT_POSTS: 3, API_RATE_LIMIT_WINDOW: 3_600_000 } as Config;
    const [one, two] = [await startApi(limited, quietLogger), await startApi(limited, quietLogger)];
    try {
      const [busy, other] = [await sys.createApiKey('shop-busy'), await sys.createApiKey('shop-other')];
      // Invalid bodies: counted like any POST, and nothing is placed.
      const first = await post('/orders', {}, bearer(busy), one.url);
      expect(first.status).toBe(400);
      expect(first.headers.get('ratelimit-policy')).toMatch(/^"posts"; q=3; w=3600(;|$)/);
      expect(first.headers.get('ratelimit')).toMatch(/^"posts"; r=2; t=\d+$/);
      expect((await post('/orders', {}, bearer(busy), two.url)).status).toBe(400);
      expect((await post(`/orders/${randomUUID()}/cancel`, {}, bearer(busy), one.url)).status).toBe(404);

      const refused = await post('/orders', orderBody(), bearer(busy), two.url);
      await expectProblem(refused.clone(), 429, 'rate-limited');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(3600);
      expect(refused.headers.get('ratelimit')).toMatch(/^"posts"; r=0; t=\d+$/);
      await expectProblem(await post('/orders', orderBody(), bearer(busy), one.url), 429, 'rate-limited');

      // Reads are not limited, nor are other clients.
      expect((await get('/orders', bearer(busy), one.url)).status).toBe(200);
      expect((await post('/orders', {}, bearer(other), one.url)).status).toBe(400);
    } finally {
      await one.stop();
      await two.stop();
    }
  });

  it('ops apikey create prints a key, alone on its last line, that the API accepts; revoke makes it refused', async () => {
    const env = { ...process.env, DATABASE_URL: sys.config.DATABASE_URL };
    const ops = (...args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/ops/index.ts'), ...args], { cwd: REPO_ROOT, env });
    const created = await ops('apikey', 'create', '--client', 'shop-from-ops');
    const key = created.stdout.trimEnd().split('\n').at(-1)!;
    expect(key).toMatch(/^ook_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const orderId = await place(key);
    expect((await get(`/orders/${orderId}`, bearer(key))).status).toBe(200);
    const recorded = await waitFor('the order\'s row', () => sys.peers.db.order.findUnique({ where: { id: orderId } }));
    expect(recorded.clientId).toBe('shop-from-ops');

    const operator = (await ops('apikey', 'create', '--client', 'ops-desk', '--scope', 'operator')).stdout.trimEnd().split('\n').at(-1)!;
    expect((await get('/metrics', bearer(operator))).status).toBe(200);

    const listed = (await ops('apikey', 'list', '--client', 'shop-from-ops')).stdout;
    expect(listed).toContain(`ook_${keyIdOf(key)}`);
    expect(listed).not.toContain(key);
    expect((await ops('apikey', 'revoke', `ook_${keyIdOf(key)}`)).stdout).toMatch(/revoked/);
    expect((await get('/orders', bearer(key))).status).toBe(401);
    await expect(ops('apikey', 'create', '--client', 'bad client!')).rejects.toMatchObject({ code: 2 });
  });

  it('npm run dev\'s keys: a shop\'s and an operator\'s, kept in the data directory and reused until revoked', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dev-keys-'));
    try {
      const keys = await ensureDevApiKeys(sys.config.DATABASE_URL, dataDir);
      expect(statSync(join(dataDir, 'dev-api-keys.json')).mode & 0o077).toBe(0);
      expect((await get('/metrics', bearer(keys.operator))).status).toBe(200);
      expect((await get('/metrics', bearer(keys.shop))).status).toBe(403);
      expect(await ensureDevApiKeys(sys.config.DATABASE_URL, dataDir)).toEqual(keys);
      await revokeApiKey(sys.peers.db, keys.shop);
      const renewed = await ensureDevApiKeys(sys.config.DATABASE_URL, dataDir);
      expect(renewed.operator).toBe(keys.operator);
      expect(renewed.shop).not.toBe(keys.shop);
      expect((await get('/orders', bearer(renewed.shop))).status).toBe(200);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
