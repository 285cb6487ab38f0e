import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import { ERASED_EMAIL } from '../../common/personal-data';
import { parseEvent } from '../../common/events';
import { migrate } from '../../prisma/migrate';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { insertSampleOrder, samplePayload, writeOutboxEvent } from '../harness/pipeline';
import { cleanUp } from '../harness/clean-up';

/**
 * `npm run ops -- customer erase <id>` against a real database, run as an operator runs it (a child
 * process): every place that holds the customer's address is scrubbed, other customers are not
 * touched, the counts are printed, and a second run changes nothing.
 */
let database: TestDatabase;
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase('customer_erase');
  await migrate(database.url);
  pool = new Pool({ connectionString: database.url, max: 4 });
});
afterAll(() => cleanUp(
  () => pool?.end(),
  () => database?.drop(),
));

const cli = (...args: string[]) => promisify(execFile)(process.execPath, [require.resolve('tsx/cli'), join(__dirname, '../../scripts/ops/index.ts'), ...args], {
  env: { ...process.env, DATABASE_URL: database.url },
});

async function placeOrder(customerId: string, email: string, clientId = 'test-shop'): Promise<string> {
  const orderId = randomUUID();
  await insertSampleOrder(pool, orderId, email);
  await pool.query('UPDATE orders SET customer_id = $2, client_id = $3, request_hash = $4 WHERE id = $1', [orderId, customerId, clientId, `fingerprint-${customerId}-${clientId}`]);
  // An OrderConfirmed v1 written before v2 (it carried the address), and a sent email.
  await writeOutboxEvent(pool, orderId, 'OrderConfirmed', { schemaVersion: 1, payload: { ...samplePayload('OrderConfirmed', orderId), customerEmail: email } });
  await pool.query(`INSERT INTO sent_emails (event_id, order_id, message_id, recipient, subject, status) VALUES ($1, $2, $3, $4, 'Your order is confirmed', 'SENT')`,
    [randomUUID(), orderId, `<${randomUUID()}@order-orchestrator>`, email]);
  return orderId;
}

const everything = async () => (await pool.query<{ t: string }>(`SELECT concat_ws(' ',
  (SELECT string_agg(customer_email, ' ') FROM orders), (SELECT string_agg(recipient, ' ') FROM sent_emails),
  (SELECT string_agg(payload::text, ' ') FROM outbox_events)) AS t`)).rows[0]!.t;

it('erases a customer\'s address from orders, sent emails and old outbox events, prints the counts, leaves others alone, and is idempotent', async () => {
  const janes = [await placeOrder('jane', 'jane@shop.example'), await placeOrder('jane', 'jane.doe@shop.example')];
  const bob = await placeOrder('bob', 'bob@shop.example');
  // Another shop's customer with the same id: customer ids are each shop's own, so not this customer.
  const otherShopsJane = await placeOrder('jane', 'jane@other-shop.example', 'other-shop');
  // Orders whose workflow has not recorded them yet: only the vault knows them.
  await pool.query(`INSERT INTO order_vault (order_id, client_id, customer_id, customer_email, payment_token) VALUES ($1, 'test-shop', 'jane', 'jane@shop.example', 'tok_visa'), ($2, 'test-shop', 'bob', 'bob@shop.example', 'tok_visa'), ($3, 'other-shop', 'jane', 'jane@other-shop.example', 'tok_visa')`, [randomUUID(), randomUUID(), randomUUID()]);
  expect(await everything()).toContain('jane@shop.example');

  const first = await cli('customer', 'erase', '--client', 'test-shop', 'jane');
  expect(first.stdout).toMatch(/orders \(customer_email\) +2\n/);
  expect(first.stdout).toMatch(/sent emails \(recipient\) +2\n/);
  expect(first.stdout).toMatch(/outbox events \(customerEmail\) +2\n/);
  expect(first.stdout).toMatch(/order vault \(email, card token\) +1\n/);
  expect(await pool.query('SELECT 1 FROM order_vault WHERE client_id = $1 AND customer_id = $2', ['test-shop', 'jane'])).toMatchObject({ rowCount: 0 });
  expect(await pool.query('SELECT 1 FROM order_vault WHERE client_id = $1 AND customer_id = $2', ['other-shop', 'jane'])).toMatchObject({ rowCount: 1 });
  expect(await pool.query('SELECT 1 FROM order_vault WHERE customer_id = $1', ['bob'])).toMatchObject({ rowCount: 1 });
  expect(first.stdout).toContain('EVENTS_MAX_AGE');

  const after = await everything();
  expect(after).not.toMatch(/jane@shop\.example|jane\.doe/);
  expect(after).toContain('bob@shop.example');
  expect(after).toContain('jane@other-shop.example');
  const orders = await pool.query<{ id: string; customer_email: string; request_hash: string | null }>('SELECT id::text, customer_email, request_hash FROM orders ORDER BY customer_id');
  expect(Object.fromEntries(orders.rows.map((r) => [r.id, r.customer_email]))).toEqual({ [janes[0]!]: ERASED_EMAIL, [janes[1]!]: ERASED_EMAIL, [bob]: 'bob@shop.example', [otherShopsJane]: 'jane@other-shop.example' });
  expect(Object.fromEntries(orders.rows.map((r) => [r.id, r.request_hash]))).toEqual({
    [janes[0]!]: null, [janes[1]!]: null, [bob]: 'fingerprint-bob-test-shop', [otherShopsJane]: 'fingerprint-jane-other-shop',
  });

  // The scrubbed outbox rows are valid v2 events (still publishable and readable); bob's is untouched v1.
  const rows = await pool.query<{ aggregate_id: string; row: object }>(`SELECT aggregate_id::text, json_build_object('id', id, 'type', type, 'schemaVersion', schema_version,
    'occurredAt', occurred_at, 'orderId', aggregate_id, 'correlationId', correlation_id, 'causationId', causation_id, 'payload', payload) AS row FROM outbox_events`);
  for (const { aggregate_id, row } of rows.rows) {
    expect(row).toMatchObject({ schemaVersion: aggregate_id === bob || aggregate_id === otherShopsJane ? 1 : 2 });
    expect(parseEvent(JSON.stringify(row))).toMatchObject({ kind: 'known', event: { type: 'OrderConfirmed', schemaVersion: 2 } });
  }

  const second = await cli('customer', 'erase', '--client', 'test-shop', 'jane');
  expect(second.stdout).toMatch(/orders \(customer_email\) +0\n/);
  expect(second.stdout).toMatch(/sent emails \(recipient\) +0\n/);
  expect(second.stdout).toMatch(/outbox events \(customerEmail\) +0\n/);
  expect(await everything()).toBe(after);
});

it('refuses a call without exactly one customer id, and says so', async () => {
  await expect(cli('customer', 'erase')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('exactly one customer id') });
  await expect(cli('customer', 'erase', 'jane')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--client') });
  await expect(cli('customer', 'erase', '--client', 'test-shop', 'a', 'b')).rejects.toMatchObject({ code: 2 });
});
