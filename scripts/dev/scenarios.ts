import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InventoryClient } from '../../common/clients/inventory-client';
import { bearer } from '../../common/clients/http-json';
import { PaymentClient } from '../../common/clients/payment-client';
import { loadConfig } from '../../common/config';
import { REPO_ROOT } from '../infra';
import { devApiKeysFile, type DevApiKeys } from './dev-api-keys';

/**
 * `npm run scenarios`: drives every saga path over REST against a running system (`npm run dev`)
 * with random duplicate POSTs (same Idempotency-Key), repeated cancels and webhook duplicates,
 * then checks each order's end and the inventory and payment services' own records.
 * Needs PAYMENT_CONFIRMATION_TIMEOUT short (e.g. `PAYMENT_CONFIRMATION_TIMEOUT=20s npm run dev`)
 * for the timeout scenario to finish quickly. Exits non-zero if any check fails. Calls the API with
 * API_KEY, or else the dev shop key `npm run dev` printed and keeps in its data directory. The
 * peers must run in test mode (`npm run dev` does); INVENTORY_TOKEN / PAYMENT_TOKEN (default: the
 * dev tools' tokens) authenticate the direct calls to them.
 */
const API = process.env.API_URL ?? 'http://127.0.0.1:3000';
function apiKey(): string {
  if (process.env.API_KEY) return process.env.API_KEY;
  const file = devApiKeysFile(process.env.DEV_DATA_DIR ?? join(REPO_ROOT, '.data'));
  if (!existsSync(file)) throw new Error(`no API key: set API_KEY, or start the system with npm run dev (it writes ${file})`);
  return (JSON.parse(readFileSync(file, 'utf8')) as DevApiKeys).shop;
}
const auth = { authorization: `Bearer ${apiKey()}` };
const config = loadConfig();
const inventory = new InventoryClient(config.INVENTORY_URL, config.INVENTORY_TOKEN);
const payment = new PaymentClient(config.PAYMENT_URL, config.PAYMENT_TOKEN);

type Expect = { status: string; reasonCode?: string; stockDelta: number; captured: number; refunded: number };
interface Scenario { name: string; token: string; quantity: number; during?: (orderId: string) => Promise<void>; expect: Expect }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = (r: Response) => r.json() as Promise<Record<string, unknown>>;
const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${API}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth, ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });

async function until(orderId: string, pred: (o: Record<string, unknown>) => boolean, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const o = await json(await fetch(`${API}/orders/${orderId}`, { headers: auth }));
    if (pred(o)) return o;
    await sleep(250);
  }
  throw new Error(`order ${orderId} did not get there within ${timeoutMs} ms`);
}

const waitingForConfirmation = (id: string) => until(id, (o) => o.status === 'AWAITING_PAYMENT_CONFIRMATION');
const challenge = (id: string, outcome: 'complete' | 'fail') =>
  fetch(`${config.PAYMENT_URL}/test/3ds/${id}`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(config.PAYMENT_TOKEN) }, body: JSON.stringify({ outcome }) });
async function cancelTwice(id: string) {
  const [a, b] = await Promise.all([post(`/orders/${id}/cancel`), post(`/orders/${id}/cancel`)]);
  console.log(`    cancel answers: ${a.status}, ${b.status}`);
}

const scenarios: Scenario[] = [
  { name: 'happy path', token: 'tok_visa', quantity: 2, expect: { status: 'CONFIRMED', stockDelta: -2, captured: 2, refunded: 0 } },
  { name: 'declined card', token: 'tok_chargeDeclined', quantity: 1, expect: { status: 'CANCELLED', reasonCode: 'PAYMENT_DECLINED', stockDelta: 0, captured: 0, refunded: 0 } },
  { name: 'out of stock', token: 'tok_visa', quantity: 1000, expect: { status: 'CANCELLED', reasonCode: 'OUT_OF_STOCK', stockDelta: 0, captured: 0, refunded: 0 } },
  { name: '3-D Secure confirmed (webhook sent twice)', token: 'tok_threeDSecure', quantity: 1,
    during: async (id) => { await waitingForConfirmation(id); await challenge(id, 'complete'); await challenge(id, 'complete'); },
    expect: { status: 'CONFIRMED', stockDelta: -1, captured: 1, refunded: 0 } },
  { name: '3-D Secure failed', token: 'tok_threeDSecure', quantity: 1,
    during: async (id) => { await waitingForConfirmation(id); await challenge(id, 'fail'); },
    expect: { status: 'CANCELLED', reasonCode: 'PAYMENT_DECLINED', stockDelta: 0, captured: 0, refunded: 0 } },
  { name: '3-D Secure timeout', token: 'tok_threeDSecure', quantity: 1,
    expect: { status: 'CANCELLED', reasonCode: 'PAYMENT_CONFIRMATION_TIMEOUT', stockDelta: 0, captured: 0, refunded: 0 } },
  { name: 'customer cancel before capture (twice, concurrently)', token: 'tok_threeDSecure', quantity: 1,
    during: async (id) => { await waitingForConfirmation(id); await cancelTwice(id); },
    expect: { status: 'CANCELLED', reasonCode: 'CUSTOMER_CANCELLED', stockDelta: 0, captured: 0, refunded: 0 } },
  { name: 'customer cancel after confirmation (refused)', token: 'tok_visa', quantity: 1,
    during: async (id) => { await until(id, (o) => o.terminal === true); const r = await post(`/orders/${id}/cancel`); console.log(`    cancel answer: ${r.status}`); if (r.status !== 409) throw new Error('expected 409'); },
    expect: { status: 'CONFIRMED', stockDelta: -1, captured: 1, refunded: 0 } },
];

async function main() {
  const sku = `SCN-${randomUUID().slice(0, 6)}`;
  const priceCents = 1000;
  await inventory.upsertProduct(sku, { name: 'Scenario product', priceCents, stock: 500 });
  let failures = 0;
  for (const s of scenarios) {
    const before = (await inventory.getProduct(sku))!;
    const key = randomUUID();
    const body = { customerId: 'scenario', customerEmail: 'scenario@shop.example', currency: 'EUR', items: [{ sku, quantity: s.quantity }], payment: { token: s.token } };
    const duplicates = 1 + Math.floor(Math.random() * 4);
    const answers = await Promise.all(Array.from({ length: duplicates }, () => post('/orders', body, { 'idempotency-key': key })));
    const accepted = answers.find((a) => a.status === 202);
    const orderId = accepted ? ((await json(accepted)).orderId as string) : ((await json(await post('/orders', body, { 'idempotency-key': key }))).orderId as string);
    console.log(`- ${s.name}: order ${orderId} (${duplicates} identical POSTs: ${answers.map((a) => a.status).join(', ')})`);
    try {
      await s.during?.(orderId);
      const end = await until(orderId, (o) => o.terminal === true);
      const after = (await inventory.getProduct(sku))!;
      const { balance } = await payment.forOrder(orderId);
      const got = { status: end.status, reasonCode: end.reasonCode, stockDelta: after.stock - before.stock, reserved: after.reserved - before.reserved, captured: balance.capturedCents / priceCents, refunded: balance.refundedCents / priceCents };
      const ok = got.status === s.expect.status && (s.expect.reasonCode ?? undefined) === (got.reasonCode ?? undefined)
        && got.stockDelta === s.expect.stockDelta && got.reserved === 0 && got.captured === s.expect.captured && got.refunded === s.expect.refunded;
      console.log(`    ${ok ? 'OK  ' : 'FAIL'} ${JSON.stringify(got)}`);
      if (!ok) failures += 1;
    } catch (err) {
      failures += 1;
      console.log(`    FAIL ${(err as Error).message}`);
    }
  }
  console.log(`${scenarios.length - failures} passed, ${failures} failed`);
  process.exit(failures ? 1 : 0);
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
