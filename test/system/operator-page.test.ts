import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { revokeApiKey } from '../../api/api-keys';
import type { OperatorDashboard } from '../../api/operator-dashboard';
import { ARTIFACTS_DIR, launchChromium } from '../harness/browser';
import { startFullSystem, type FullSystem } from '../harness/full-system';
import { waitFor } from '../harness/system';
import { cleanUp } from '../harness/clean-up';

/**
 * The operator page and the API reference in a real headless Chromium, over every real process:
 * real orders (confirmed in two currencies, cancelled for two reasons) reach the analytics read
 * model, and the page's charts show exactly them. Keeps a screenshot in test-artifacts/.
 */
jest.setTimeout(300_000);

let sys: FullSystem;
let browser: Browser;
const contexts: BrowserContext[] = [];

const CONFIRMED = [{ currency: 'EUR', priceCents: 1250, quantity: 2 }, { currency: 'EUR', priceCents: 999, quantity: 1 }, { currency: 'USD', priceCents: 4000, quantity: 3 }];
const revenueCents = (currency: string) => CONFIRMED.filter((o) => o.currency === currency).reduce((n, o) => n + o.priceCents * o.quantity, 0);

beforeAll(async () => {
  browser = await launchChromium(); // first: without a browser, fail at once with what to install
  sys = await startFullSystem();
});
afterAll(() => cleanUp(
  async () => { for (const c of contexts) await c.close().catch(() => undefined); },
  () => browser?.close(),
  () => sys?.stop(),
));

async function placeOrder(item: { currency: string; priceCents: number; quantity: number; stock?: number }, token: string): Promise<string> {
  const sku = `PAGE-${randomUUID().slice(0, 8)}`;
  await sys.peers.inventory.upsertProduct(sku, { name: sku, priceCents: item.priceCents, currency: item.currency, stock: item.stock ?? 10 });
  const res = await fetch(`${sys.apiUrl}/orders`, {
    method: 'POST', headers: { authorization: `Bearer ${sys.shopKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ customerId: 'page-customer', customerEmail: 'page@shop.example', currency: item.currency, items: [{ sku, quantity: item.quantity }], payment: { token } }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { orderId: string }).orderId;
}

async function dashboard(): Promise<OperatorDashboard> {
  const res = await fetch(`${sys.apiUrl}/operator/dashboard?days=1`, { headers: { authorization: `Bearer ${sys.operatorKey}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as OperatorDashboard;
}

const ordersWith = (d: OperatorDashboard, status: string) => d.ordersByStatus.filter((r) => r.status === status).reduce((n, r) => n + r.orders, 0);

async function newPage(extraHTTPHeaders?: Record<string, string>): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, ...(extraHTTPHeaders ? { extraHTTPHeaders } : {}) });
  contexts.push(context);
  return context.newPage();
}

/** Opens `path` without a credential: the page sends the browser to the sign-in form; signs in with `key`. */
async function signIn(page: Page, path: string, key: string, screenshot?: string) {
  await page.goto(`${sys.apiUrl}${path}`);
  expect(new URL(page.url()).pathname).toBe('/operator/login');
  if (screenshot) await page.screenshot({ path: join(ARTIFACTS_DIR, screenshot) });
  await page.fill('input[name=key]', key);
  const [response] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  return response;
}

interface ChartSeen { labels: string[]; datasets: { label: string; total: number }[]; painted: number }

/** Runs in the page: each canvas's chart.js instance (its labels and dataset totals), and how many of its pixels are painted. */
const READ_CHARTS = `Object.fromEntries([...document.querySelectorAll('canvas')].map((canvas) => {
  const chart = Chart.getChart(canvas);
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted += 1;
  return [canvas.id, { labels: chart.data.labels, datasets: chart.data.datasets.map((s) => ({ label: s.label, total: s.data.reduce((a, b) => a + b, 0) })), painted }];
}))`;

describe('the operator page', () => {
  let orders: { confirmed: string[]; cancelled: string[] };

  beforeAll(async () => {
    const confirmed = await Promise.all(CONFIRMED.map((o) => placeOrder(o, 'tok_visa')));
    const cancelled = await Promise.all([
      placeOrder({ currency: 'EUR', priceCents: 500, quantity: 1 }, 'tok_chargeDeclined'),
      placeOrder({ currency: 'EUR', priceCents: 500, quantity: 5, stock: 2 }, 'tok_visa'), // out of stock
    ]);
    orders = { confirmed, cancelled };
    // The read model has them all, and both consumers have reported their backlog.
    await waitFor('the analytics read model to show every order', async () => {
      const d = await dashboard();
      return ordersWith(d, 'CONFIRMED') === 3 && ordersWith(d, 'CANCELLED') === 2 && d.consumers.length === 2 ? d : undefined;
    }, 90_000, 500);
  });

  it('answers its data as JSON: the real orders by status, revenue, cancel reasons, step latencies, consumer lag', async () => {
    const d = await dashboard();
    expect(d.bucket).toBe('hour');
    expect(d.revenueByDay.map(({ currency, orders: n, revenueCents: cents }) => ({ currency, n, cents })).sort((a, b) => a.currency.localeCompare(b.currency)))
      .toEqual([{ currency: 'EUR', n: 2, cents: revenueCents('EUR') }, { currency: 'USD', n: 1, cents: revenueCents('USD') }]);
    expect(d.cancelReasons).toEqual(expect.arrayContaining([{ reasonCode: 'PAYMENT_DECLINED', orders: 1 }, { reasonCode: 'OUT_OF_STOCK', orders: 1 }]));
    const step = (name: string) => d.stepLatencies.find((s) => s.step === name);
    expect(step('reserve-stock')).toMatchObject({ orders: 4 }); // the 3 confirmed and the declined one reserved stock
    expect(step('capture-payment')).toMatchObject({ orders: 3 });
    expect(step('placed → confirmed')).toMatchObject({ orders: 3 });
    expect(step('placed → cancelled')).toMatchObject({ orders: 2 });
    expect(step('placed → confirmed')!.p50Ms).toBeGreaterThan(0);
    expect(d.consumers.map((c) => c.consumer)).toEqual(['analytics', 'email']);
    expect(d.deadLetters).toBe(0);
    expect(orders.confirmed).toHaveLength(3);
  });

  it('renders the charts from those orders in Chromium, after signing in through the form; keeps a screenshot', async () => {
    const operatorKey = await sys.createApiKey('browser-operator', 'operator');
    const page = await newPage();
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' && !/\/operator\/stuck/.test(m.location().url) && !/Failed to load resource.*404/.test(m.text())) problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    const landed = await signIn(page, '/operator', operatorKey, 'sign-in.png');
    expect(landed?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/operator');
    await page.waitForSelector('body[data-state=ready]', { timeout: 30_000 });

    const charts = await page.evaluate<Record<string, ChartSeen>>(READ_CHARTS);
    const total = (id: string, label: string) => charts[id]!.datasets.find((s) => s.label === label)?.total;
    expect(total('orders-by-status', 'CONFIRMED')).toBe(3);
    expect(total('orders-by-status', 'CANCELLED')).toBe(2);
    expect(total('revenue', 'EUR')).toBeCloseTo(revenueCents('EUR') / 100);
    expect(total('revenue', 'USD')).toBeCloseTo(revenueCents('USD') / 100);
    expect([...charts['cancel-reasons']!.labels].sort()).toEqual(['OUT_OF_STOCK', 'PAYMENT_DECLINED']);
    expect(charts['step-latencies']!.labels).toEqual(expect.arrayContaining(['reserve-stock (4)', 'placed → confirmed (3)']));
    expect(charts['consumer-lag']!.labels).toEqual(['analytics', 'email']);
    for (const [id, chart] of Object.entries(charts)) expect([id, chart.painted > 500]).toEqual([id, true]); // not a blank canvas
    expect(await page.textContent('#tile-confirmed')).toBe('3');
    expect(await page.textContent('#tile-dlq')).toBe('0');
    // The stuck list shows a row either way: orders, "No stuck orders", or why it is not available.
    expect((await page.textContent('#stuck tr'))?.trim()).toMatch(/.+/);
    expect(problems).toEqual([]); // among others: nothing the page's CSP refused
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'operator-page.png'), fullPage: true });

    // The session dies with its key.
    await revokeApiKey(sys.peers.db, operatorKey);
    await page.goto(`${sys.apiUrl}/operator`);
    expect(new URL(page.url()).pathname).toBe('/operator/login');
  });

  it('signs out with the page\'s Sign out button: the cookie is gone, the page leads to the sign-in form again', async () => {
    const page = await newPage();
    expect((await signIn(page, '/operator', sys.operatorKey))?.status()).toBe(200);
    await page.waitForSelector('body[data-state=ready]', { timeout: 30_000 });
    const [signedOut] = await Promise.all([page.waitForNavigation(), page.click('form[action="/operator/logout"] button')]);
    expect([signedOut?.status(), new URL(page.url()).pathname]).toEqual([200, '/operator/login']);
    expect((await page.context().cookies()).map((c) => c.name)).not.toContain('operator_session');
    await page.goto(`${sys.apiUrl}/operator`);
    expect(new URL(page.url()).pathname).toBe('/operator/login');
  });

  it('refuses a shop: its session and its bearer key get 403; without a credential, a browser goes to the sign-in form and others get 401', async () => {
    const page = await newPage();
    expect((await signIn(page, '/operator', sys.shopKey))?.status()).toBe(403);
    const bearer = await newPage({ authorization: `Bearer ${sys.shopKey}` });
    expect((await bearer.goto(`${sys.apiUrl}/operator`))?.status()).toBe(403);
    expect((await fetch(`${sys.apiUrl}/operator/dashboard`, { headers: { authorization: `Bearer ${sys.shopKey}` } })).status).toBe(403);
    // Without a credential: a browser's navigation goes to the sign-in form, anything else gets 401.
    const navigation = await fetch(`${sys.apiUrl}/operator`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect([navigation.status, navigation.headers.get('location')]).toEqual([303, '/operator/login?next=%2Foperator']);
    expect((await fetch(`${sys.apiUrl}/operator`, { headers: { accept: 'application/json' } })).status).toBe(401);
    expect((await fetch(`${sys.apiUrl}/docs`, { redirect: 'manual' })).status).toBe(401); // accept: */*
    expect((await fetch(`${sys.apiUrl}/operator/dashboard`, { headers: { accept: 'application/json' } })).status).toBe(401);
    expect((await fetch(`${sys.apiUrl}/operator/assets/chart.umd.min.js`)).status).toBe(401);
  });

  it('opens with a bearer operator key directly', async () => {
    const page = await newPage({ authorization: `Bearer ${sys.operatorKey}` });
    expect((await page.goto(`${sys.apiUrl}/operator`))?.status()).toBe(200);
    await page.waitForSelector('body[data-state=ready]', { timeout: 30_000 });
  });
});

describe('the API reference', () => {
  it('lists the operations in Chromium for a shop signed in through the form', async () => {
    const page = await newPage();
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    const landed = await signIn(page, '/docs', sys.shopKey);
    expect(landed?.status()).toBe(200);
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThanOrEqual(10);
    expect(problems).toEqual([]); // nothing the page's CSP refused
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'api-reference.png') });
  });
});
