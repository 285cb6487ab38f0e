import { randomUUID } from 'node:crypto';
import { bearer } from '../../common/clients/http-json';
import { createApiKey } from '../../api/api-keys';
import { createDb } from '../../common/db';

/**
 * The chaos harness's shop: C clients placing N orders over REST, each with an Idempotency-Key,
 * retried on network errors and 5xx as a real checkout would, with a mix of outcomes and a
 * customer who answers 3-D Secure (or not) and sometimes cancels. Each client is a shop of its own
 * with its own API key (client `chaos-shop-<n>`).
 */
export const CHAOS_SKUS = {
  /** Plenty of stock: these orders are decided by payment and cancels. */
  plenty: { sku: 'CHAOS-PLENTY', name: 'Chaos mug', priceCents: 1250, stock: 1_000_000 },
  /** Little stock, contended: some orders get it, the rest end OUT_OF_STOCK. */
  scarce: { sku: 'CHAOS-SCARCE', name: 'Chaos lamp', priceCents: 4900, stock: 25 },
} as const;

export type Scenario = 'visa' | 'declined' | '3ds-complete' | '3ds-fail' | '3ds-never' | 'out-of-stock' | 'cancel';
const MIX: [Scenario, number][] = [['visa', 40], ['declined', 10], ['3ds-complete', 10], ['3ds-fail', 5], ['3ds-never', 5], ['out-of-stock', 10], ['cancel', 20]];

export interface PlacedOrder {
  key: string;
  scenario: Scenario;
  /** Every order id the API answered for this key (more than one would be a duplicate order). */
  orderIds: Set<string>;
  accepted: boolean;
  attempts: number;
  lastError?: string;
  /** The customer's cancel got no final answer before the client gave up. */
  cancelGaveUp?: boolean;
}

export interface LoadOptions {
  apiUrl: string;
  paymentUrl: string;
  /** The dev tools' payment token (PAYMENT_TOKEN), for /test/3ds. */
  paymentToken: string;
  orders: number;
  clients: number;
  /** One API key per client (see createChaosApiKeys). */
  apiKeys: string[];
  random(): number;
  onProgress(placed: number): void;
  /** What each client is doing right now, for the progress line. */
  doing: string[];
}

function pick(random: () => number): Scenario {
  let r = random() * MIX.reduce((n, [, w]) => n + w, 0);
  for (const [scenario, weight] of MIX) {
    if ((r -= weight) < 0) return scenario;
  }
  return 'visa';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * POSTs JSON until the answer is neither a network error nor a 5xx, nor a 409 that asks to retry
 * (an Idempotency-Key still in flight carries Retry-After; a refused cancel does not); gives up
 * after `giveUpMs`, as a checkout would.
 */
async function postWithRetries(url: string, apiKey: string, body: unknown, key: string, track: { attempts: number; lastError?: string }, giveUpMs = 180_000): Promise<Response | undefined> {
  const deadline = Date.now() + giveUpMs;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    track.attempts += 1;
    try {
      const res = await fetch(url, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, 'idempotency-key': key },
        body: JSON.stringify(body), signal: AbortSignal.timeout(15_000),
      });
      if (res.status < 500 && !(res.status === 409 && res.headers.has('retry-after'))) return res;
      track.lastError = `HTTP ${res.status} from ${url}: ${(await res.text()).slice(0, 200)}`;
    } catch (err) {
      track.lastError = (err as Error).message;
    }
    await sleep(Math.min(250 * 2 ** Math.min(attempt, 4), 3_000));
  }
  return undefined;
}

function orderBody(scenario: Scenario, n: number, random: () => number) {
  const token = { declined: 'tok_chargeDeclined', '3ds-complete': 'tok_threeDSecure', '3ds-fail': 'tok_threeDSecure', '3ds-never': 'tok_threeDSecure' }[scenario as string] ?? 'tok_visa';
  const items = scenario === 'out-of-stock'
    ? [{ sku: CHAOS_SKUS.scarce.sku, quantity: 1 + Math.floor(random() * 3) }]
    : [{ sku: CHAOS_SKUS.plenty.sku, quantity: 1 + Math.floor(random() * 3) }];
  return { customerId: `chaos-${n % 50}`, customerEmail: `chaos-${n}@shop.example`, currency: 'EUR', items, payment: { token } };
}

/** The customer's part after the order is accepted: answer 3-D Secure, or cancel at a random moment. */
async function followUp(opts: LoadOptions, apiKey: string, order: PlacedOrder, orderId: string): Promise<void> {
  if (order.scenario === '3ds-complete' || order.scenario === '3ds-fail') {
    // The payment exists only once the saga has asked for it; the customer answers when the bank asks.
    for (let i = 0; i < 240; i++) {
      const res = await fetch(`${opts.paymentUrl}/test/3ds/${orderId}`, {
        method: 'POST', headers: { 'content-type': 'application/json', ...bearer(opts.paymentToken) },
        body: JSON.stringify({ outcome: order.scenario === '3ds-complete' ? 'complete' : 'fail' }), signal: AbortSignal.timeout(10_000),
      }).catch(() => undefined);
      if (res && res.status < 300) return;
      if (res && res.status !== 404 && res.status < 500) return; // 409: the payment is no longer waiting (the order moved on)
      await sleep(500);
    }
  }
  if (order.scenario === 'cancel') {
    await sleep(opts.random() * 3_000);
    const res = await postWithRetries(`${opts.apiUrl}/orders/${orderId}/cancel`, apiKey, {}, `${order.key}-cancel`, order, 120_000);
    if (!res) order.cancelGaveUp = true;
  }
}

/** Runs the load to the end; returns every order as the clients saw it. */
export async function runLoad(opts: LoadOptions): Promise<PlacedOrder[]> {
  const orders: PlacedOrder[] = [];
  let next = 0;
  const client = async (c: number) => {
    const apiKey = opts.apiKeys[c]!;
    while (next < opts.orders) {
      const n = next++;
      const scenario = pick(opts.random);
      const order: PlacedOrder = { key: randomUUID(), scenario, orderIds: new Set(), accepted: false, attempts: 0 };
      orders.push(order);
      opts.doing[c] = `placing #${n} (${scenario})`;
      const body = orderBody(scenario, n, opts.random);
      const res = await postWithRetries(`${opts.apiUrl}/orders`, apiKey, body, order.key, order);
      if (res?.status === 202) {
        const { orderId } = (await res.json()) as { orderId: string };
        order.orderIds.add(orderId);
        order.accepted = true;
        // A client that lost the answer retries with the same key: it must get the same order.
        const again = await postWithRetries(`${opts.apiUrl}/orders`, apiKey, body, order.key, order);
        if (again?.status === 202) order.orderIds.add(((await again.json()) as { orderId: string }).orderId);
        opts.doing[c] = `${scenario} follow-up of ${orderId}`;
        await followUp(opts, apiKey, order, orderId);
      } else if (res) {
        order.lastError = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
      }
      opts.onProgress(orders.filter((o) => o.accepted || o.lastError).length);
    }
    opts.doing[c] = 'done';
  };
  await Promise.all(Array.from({ length: opts.clients }, (_, c) => client(c)));
  return orders;
}

/** A shop API key for each of the harness's clients, made in the system's database before the load starts. */
export async function createChaosApiKeys(databaseUrl: string, clients: number): Promise<string[]> {
  const db = createDb(databaseUrl);
  try {
    const keys: string[] = [];
    for (let c = 0; c < clients; c++) keys.push((await createApiKey(db, `chaos-shop-${c}`)).key);
    return keys;
  } finally {
    await db.$disconnect();
  }
}
