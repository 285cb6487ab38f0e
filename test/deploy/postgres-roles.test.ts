import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { migrate } from '../../prisma/migrate';
import { ensureSchema as ensureInventorySchema } from '../../services/inventory/schema';
import { ensureSchema as ensurePaymentSchema } from '../../services/payment/schema';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { cleanUp } from '../harness/clean-up';

/**
 * deploy/postgres/roles.sql (compose's `postgres-roles` job) against the real Postgres of the
 * test run: each service's role reaches its own schema and nothing else, the migrations run as
 * the owner, the order service's processes get rows but no DDL, and the script can run again.
 */
const passwords = { orders_owner_password: 'owner-pw-1', orders_app_password: 'app-pw-1', inventory_password: 'inventory-pw-1', payment_password: 'payment-pw-1' };

/** What psql does with the script: `:'name'` becomes a quoted literal; `\set` lines are psql's own. */
function rolesSql(vars: Record<string, string>): string {
  const text = readFileSync(join(__dirname, '../../deploy/postgres/roles.sql'), 'utf8');
  return text.split('\n').filter((l) => !l.startsWith('\\')).join('\n')
    .replace(/:'(\w+)'/g, (_, name: string) => `'${vars[name]!.replace(/'/g, "''")}'`);
}

let database: TestDatabase;
const urlAs = (role: string, password: string) => {
  const url = new URL(database.url);
  url.username = role;
  url.password = password;
  return url.toString();
};
const pools: Pool[] = [];
const poolAs = (role: string, password: string) => {
  const pool = new Pool({ connectionString: urlAs(role, password), max: 2 });
  pools.push(pool);
  return pool;
};
async function runAsSuperuser(sql: string): Promise<void> {
  const client = new Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
const denied = expect.objectContaining({ message: expect.stringMatching(/permission denied/) });

beforeAll(async () => {
  database = await createTestDatabase('roles');
});
afterAll(() => cleanUp(
  async () => { for (const p of pools) await p.end(); },
  () => database?.drop(),
));

it('gives each service a role with only its own schema; migrations run as the owner; the script runs again', async () => {
  await runAsSuperuser(rolesSql(passwords));
  expect(await migrate(urlAs('orders_owner', passwords.orders_owner_password))).not.toHaveLength(0);
  const inventory = poolAs('inventory', passwords.inventory_password);
  const payment = poolAs('payment', passwords.payment_password);
  await ensureInventorySchema(inventory);
  await ensurePaymentSchema(payment);
  // Again, as on every `compose up`, now over existing tables, with a rotated password.
  await runAsSuperuser(rolesSql({ ...passwords, orders_app_password: 'app-pw-2' }));
  await ensureInventorySchema(inventory);

  const app = poolAs('orders_app', 'app-pw-2');
  // The order service's processes: rows of schema public, nothing else.
  await app.query(`INSERT INTO orders (id, client_id, customer_id, customer_email, currency, status, total_cents, correlation_id, updated_at)
    VALUES (gen_random_uuid(), 'shop', 'c', 'c@shop.example', 'EUR', 'PENDING', 100, 'corr', now())`);
  await app.query(`INSERT INTO outbox_events (id, aggregate_id, type, schema_version, occurred_at, correlation_id, payload)
    VALUES (gen_random_uuid(), gen_random_uuid(), 'OrderPlaced', 2, now(), 'corr', '{}')`); // a sequence (bigserial)
  expect((await app.query('SELECT count(*)::int AS n FROM orders')).rows[0]).toEqual({ n: 1 });
  await expect(app.query('CREATE TABLE public.sneaky (id int)')).rejects.toEqual(denied);
  await expect(app.query('DROP TABLE orders')).rejects.toEqual(expect.objectContaining({ message: expect.stringMatching(/must be owner/) }));
  await expect(app.query('SELECT * FROM inventory.products')).rejects.toEqual(denied);
  await expect(app.query('SELECT * FROM payment.payments')).rejects.toEqual(denied);
  await expect(app.query('CREATE SCHEMA sneaky')).rejects.toEqual(denied);

  // Each peer: its own schema, not the orders, not the other peer.
  expect((await inventory.query('SELECT count(*)::int AS n FROM inventory.products')).rows[0]).toEqual({ n: 0 });
  await expect(inventory.query('SELECT * FROM public.orders')).rejects.toEqual(denied);
  await expect(inventory.query('SELECT * FROM payment.payments')).rejects.toEqual(denied);
  await expect(payment.query('SELECT * FROM inventory.products')).rejects.toEqual(denied);
  await expect(payment.query('SELECT * FROM public.outbox_events')).rejects.toEqual(denied);
  await expect(payment.query('CREATE TABLE public.sneaky (id int)')).rejects.toEqual(denied);

  // The owner migrates the order service's schema only.
  const owner = poolAs('orders_owner', passwords.orders_owner_password);
  await expect(owner.query('SELECT * FROM inventory.products')).rejects.toEqual(denied);
  // The old password of a rotated role no longer works.
  await expect(poolAs('orders_app', passwords.orders_app_password).query('SELECT 1')).rejects.toEqual(expect.objectContaining({ message: expect.stringMatching(/password authentication failed/) }));
});
