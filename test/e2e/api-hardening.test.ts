import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { startApi } from '../../api/server';
import type { Config } from '../../common/config';
import { createApiKey } from '../../api/api-keys';
import { createDb } from '../../common/db';
import { createLogger } from '../../common/logger';
import { migrate } from '../../prisma/migrate';
import { freePort } from '../../scripts/infra/ports';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { testConfig } from '../harness/system';
import { cleanUp } from '../harness/clean-up';

/**
 * The API's hardening, on the real API process code (startApi) with a real Postgres and
 * Temporal: security headers, X-Correlation-Id on every answer, one access log line per
 * request (no query string, no personal data), and /readyz that says what is down but not why.
 * The log is the API's real logger (common/logger.ts), captured.
 */
describe('API hardening', () => {
  let database: TestDatabase;
  let config: Config;
  let api: { url: string; stop(): Promise<void> };
  let key: string;
  const auth = () => ({ authorization: `Bearer ${key}` });
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('api', new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString('utf8'))); done(); } }));

  beforeAll(async () => {
    database = await createTestDatabase('hardening');
    await migrate(database.url);
    config = testConfig({ DATABASE_URL: database.url, API_PORT: '0', INVENTORY_URL: `http://127.0.0.1:${await freePort()}` });
    api = await startApi(config, logger);
    const db = createDb(database.url);
    try {
      key = (await createApiKey(db, 'hardening-shop')).key;
    } finally {
      await db.$disconnect();
    }
  });
  afterAll(() => cleanUp(
    () => api?.stop(),
    () => database?.drop(),
  ));

  const accessLines = () => lines.filter((l) => l.msg === 'request answered' || l.msg === 'request failed');
  const waitForAccessLine = async (correlationId: string) => {
    for (let i = 0; i < 50; i++) {
      const line = accessLines().find((l) => l.correlationId === correlationId);
      if (line) return line;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no access log line with correlationId ${correlationId}; lines: ${JSON.stringify(lines.slice(-5))}`);
  };

  it('sends security headers for a JSON API on every answer, errors included', async () => {
    for (const res of [await fetch(`${api.url}/healthz`), await fetch(`${api.url}/orders/not-an-id`), await fetch(`${api.url}/nowhere`)]) {
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=31536000; includeSubDomains/);
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('answers the client\'s valid X-Correlation-Id, or a new one, and logs one line per request with it', async () => {
    const mine = `checkout-${randomUUID()}`;
    const res = await fetch(`${api.url}/orders/${randomUUID()}?customerEmail=jane@shop.example&token=tok_visa`, { headers: { 'x-correlation-id': mine, ...auth() } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-correlation-id')).toBe(mine);
    const line = await waitForAccessLine(mine);
    expect(line).toMatchObject({ name: 'api', level: 30, method: 'GET', path: expect.stringMatching(/^\/orders\/[0-9a-f-]{36}$/), status: 404, durationMs: expect.any(Number), clientId: 'hardening-shop' });
    const text = JSON.stringify(accessLines());
    expect(text).not.toMatch(/jane@shop\.example|tok_visa|customerEmail=/);
    expect(JSON.stringify(lines)).not.toContain(key); // the API key is in no log line

    const invalid = await fetch(`${api.url}/healthz`, { headers: { 'x-correlation-id': 'not valid; has spaces' } });
    const generated = invalid.headers.get('x-correlation-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(await waitForAccessLine(generated!)).toMatchObject({ method: 'GET', path: '/healthz', status: 200 });

    // Refusals get an id and a line too: a body too large, a method not allowed.
    const big = await fetch(`${api.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth() }, body: JSON.stringify({ pad: 'x'.repeat(150_000) }) });
    expect(big.status).toBe(413);
    expect(await waitForAccessLine(big.headers.get('x-correlation-id')!)).toMatchObject({ method: 'POST', path: '/orders', status: 413 });
    const bigWebhook = await fetch(`${api.url}/webhooks/payments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(70_000) }) });
    expect(bigWebhook.status).toBe(413);
    const notAllowed = await fetch(`${api.url}/orders`, { method: 'DELETE', headers: auth() });
    expect(notAllowed.status).toBe(405);
    expect(await waitForAccessLine(notAllowed.headers.get('x-correlation-id')!)).toMatchObject({ method: 'DELETE', status: 405 });
    // Behind the key: every undeclared method on a known path is 405 with the declared ones in Allow; OPTIONS lists them.
    for (const [method, path, allow] of [
      ['DELETE', '/orders', 'GET, POST, HEAD, OPTIONS'],
      ['PUT', `/orders/${randomUUID()}`, 'GET, HEAD, OPTIONS'],
      ['GET', '/orders/x/cancel', 'POST, OPTIONS'],
      ['PATCH', '/webhooks/payments', 'POST, OPTIONS'],
    ] as const) {
      const res = await fetch(`${api.url}${path}`, { method, headers: auth() });
      expect([method, path, res.status, res.headers.get('allow')]).toEqual([method, path, 405, allow]);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect((await fetch(`${api.url}/orders`, { method: 'OPTIONS', headers: auth() })).headers.get('allow')?.split(/,\s*/)).toEqual(expect.arrayContaining(['GET', 'POST']));
    expect((await fetch(`${api.url}/nothing-here`, { method: 'DELETE', headers: auth() })).status).toBe(404);
    expect((await fetch(`${api.url}/orders`, { method: 'DELETE' })).status).toBe(401); // without a key: nothing else is told
  });

  it('logs the personal data of a request nowhere, also when it fails (nested redaction in the real logger)', async () => {
    const body = { customerId: 'c-1', customerEmail: 'hidden@shop.example', currency: 'EUR', items: [{ sku: 'MUG-001', quantity: 1 }], payment: { token: 'tok_hiddenToken' } };
    const res = await fetch(`${api.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth() }, body: JSON.stringify(body) });
    expect(res.status).toBe(503); // the catalog is down in this test: logged as an error, answered without its text
    await waitForAccessLine(res.headers.get('x-correlation-id')!);
    expect(JSON.stringify(lines)).not.toMatch(/hidden@shop\.example|tok_hiddenToken/);
    logger.info({ order: body, input: { order: body } }, 'an order as a careless log line would write it');
    expect(JSON.stringify(lines.at(-1))).not.toMatch(/hidden@shop\.example|tok_hiddenToken/);
  });

  it('/readyz needs a key, reports each dependency as ok, and with the database down answers 503 with no error text, logging why', async () => {
    expect((await fetch(`${api.url}/readyz`)).status).toBe(401);
    expect(await (await fetch(`${api.url}/readyz`, { headers: auth() })).json()).toEqual({ status: 'ready', checks: { database: 'ok', temporal: 'ok' } });
    const dbPort = await freePort();
    const broken = await startApi({ ...config, DATABASE_URL: `postgresql://orders:s3cret-pw@127.0.0.1:${dbPort}/orders` }, logger);
    try {
      // Keys live in the database too: with it down the key cannot be checked, and the probe reads 503 all the same.
      const res = await fetch(`${broken.url}/readyz`, { headers: auth() });
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(JSON.parse(text)).toMatchObject({ type: expect.stringMatching(/\/authentication-unavailable$/), status: 503 });
      expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|s3cret|prisma|Error/i);
      const why = lines.find((l) => l.msg === 'could not check an API key');
      expect(why).toBeDefined();
      expect(JSON.stringify(why)).not.toMatch(/s3cret-pw/); // the log says why, but no password
    } finally {
      await broken.stop();
    }
  });
});
