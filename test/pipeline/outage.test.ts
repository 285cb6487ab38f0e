import { startFullSystem, type FullSystem } from '../harness/full-system';
import { readStream, sleep, startOwnNats, unpublishedCount, type OwnNats } from '../harness/pipeline';
import { waitFor } from '../harness/system';
import { Pool } from 'pg';
import { cleanUp } from '../harness/clean-up';

/**
 * Orders placed over REST through every real process while the relay and the consumers are
 * restarted and NATS is down for a while: afterwards every outbox row is in the stream exactly
 * once, each order got exactly one email, and analytics counted each order once, with its final
 * status.
 */
let nats: OwnNats;
let system: FullSystem;
let pool: Pool;

beforeAll(async () => {
  nats = await startOwnNats();
  system = await startFullSystem({ NATS_URL: nats.url, CONSUMER_RETRY_BASE_DELAY: '100ms', CONSUMER_RETRY_MAX_DELAY: '1s' });
  pool = new Pool({ connectionString: system.config.DATABASE_URL, max: 2 });
  await system.peers.inventory.upsertProduct('OUT-MUG', { name: 'Mug', priceCents: 1250, stock: 1000 });
});

afterAll(() => cleanUp(
  () => pool?.end(),
  () => system?.stop(),
  () => nats?.destroy(),
));

async function placeOrder(i: number): Promise<string> {
  const res = await fetch(`${system.apiUrl}/orders`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${system.shopKey}` },
    body: JSON.stringify({
      customerId: `outage-${i}`, customerEmail: `c${i}@shop.example`, currency: 'EUR',
      items: [{ sku: 'OUT-MUG', quantity: 1 + (i % 3) }], payment: { token: i % 4 === 3 ? 'tok_chargeDeclined' : 'tok_visa' },
    }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { orderId: string }).orderId;
}

async function finalStatus(orderId: string): Promise<string | undefined> {
  const body = (await (await fetch(`${system.apiUrl}/orders/${orderId}`, { headers: { authorization: `Bearer ${system.shopKey}` } })).json()) as { status: string; terminal?: boolean };
  return body.terminal ? body.status : undefined;
}

it('loses and duplicates nothing across relay and consumer restarts and a NATS outage', async () => {
  const orderIds: string[] = [];
  const place = async (from: number, count: number) => {
    orderIds.push(...(await Promise.all(Array.from({ length: count }, (_, k) => placeOrder(from + k)))));
  };

  await place(0, 4);
  await system.restart('relay', 300); // while those orders run
  await place(4, 4);
  await system.restart('email', 200);

  await nats.stop();
  await place(8, 6); // the saga does not need NATS: these orders finish while it is down
  await Promise.all(orderIds.map((id) => waitFor(`order ${id} to finish`, () => finalStatus(id), 60_000, 200)));
  expect(await unpublishedCount(pool)).toBeGreaterThan(0);
  // A consumer stopping and starting while the broker is away: it waits for NATS to come back.
  const analyticsRestarted = system.restart('analytics');
  await sleep(2_000);
  await nats.start();
  await analyticsRestarted;

  await waitFor('the outbox drained after the outage', async () => (await unpublishedCount(pool)) === 0, 60_000, 200);
  const { rows: outbox } = await pool.query<{ id: string; aggregate_id: string; sequence: string }>('SELECT id, aggregate_id, sequence FROM outbox_events ORDER BY sequence');
  const stream = await readStream(system.config);
  expect(stream.map((m) => m.event.id).sort()).toEqual(outbox.map((r) => r.id).sort());
  for (const orderId of orderIds) {
    expect(stream.filter((m) => m.event.orderId === orderId).map((m) => m.event.id))
      .toEqual(outbox.filter((r) => r.aggregate_id === orderId).map((r) => r.id));
  }

  const statuses = new Map(await Promise.all(orderIds.map(async (id) => [id, (await finalStatus(id))!] as const)));
  expect([...statuses.values()].filter((s) => s === 'CANCELLED')).toHaveLength(3); // orders 3, 7, 11 were declined
  await waitFor('one email per order', async () => system.smtp.received.length >= orderIds.length, 60_000, 200);
  const analyticsCaughtUp = async () => {
    const { rows } = await pool.query<{ order_id: string; status: string }>('SELECT order_id, status FROM analytics_orders');
    return rows.length === orderIds.length && rows.every((r) => r.status === statuses.get(r.order_id)) ? rows : undefined;
  };
  await waitFor('analytics to reach every final status', analyticsCaughtUp, 60_000, 200);
  await sleep(1_000); // anything still in flight would show up now
  expect(system.smtp.received).toHaveLength(orderIds.length);
  expect(new Set(system.smtp.received.map((m) => m.to[0])).size).toBe(orderIds.length);
  const { rows: inbox } = await pool.query<{ consumer: string; n: string }>('SELECT consumer, count(*) AS n FROM processed_events GROUP BY consumer ORDER BY consumer');
  const analyticsTypes = new Set(['OrderPlaced', 'StockReserved', 'PaymentAuthorized', 'PaymentCaptured', 'OrderConfirmed', 'OrderCancelled']);
  expect(inbox).toEqual([
    { consumer: 'analytics', n: String(stream.filter((m) => analyticsTypes.has(m.event.type)).length) },
    { consumer: 'email', n: String(orderIds.length) },
  ]);
});
