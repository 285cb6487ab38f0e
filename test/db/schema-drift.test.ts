import { Client } from 'pg';
import { migrate } from '../../prisma/migrate';
import { createTestDatabase, type TestDatabase } from '../harness/database';
import { loadDataModel, type DataModel } from './prisma-datamodel';
import { diffSchema, introspectDatabase, schemasOf, type DbIntrospection } from './schema-diff';
import { cleanUp } from '../harness/clean-up';

/**
 * prisma/migrations/*.sql are written by hand (Prisma's schema engine is not available here), so
 * nothing but this test keeps them in step with prisma/schema.prisma: migrate a fresh database,
 * read it back from the Postgres catalogs and compare it with the data model Prisma computes
 * from schema.prisma (see prisma-datamodel.ts and schema-diff.ts).
 */
let db: TestDatabase;
let client: Client;
let dataModel: DataModel;

beforeAll(async () => {
  const [created, model] = await Promise.all([createTestDatabase('schema_drift'), loadDataModel()]);
  db = created;
  dataModel = model;
  await migrate(db.url);
  client = new Client({ connectionString: db.url });
  await client.connect();
});

afterAll(() => cleanUp(
  () => client?.end(),
  () => db?.drop(),
));

function introspect(): Promise<DbIntrospection> {
  return introspectDatabase(client, schemasOf(dataModel));
}

/** Runs `sql` in a transaction, introspects inside it, rolls back: the database stays as migrated. */
async function differencesAfter(sql: string): Promise<string[]> {
  await client.query('BEGIN');
  try {
    await client.query(sql);
    return diffSchema(dataModel, await introspect());
  } finally {
    await client.query('ROLLBACK');
  }
}

it('the migrated database matches schema.prisma', async () => {
  expect(dataModel.models.length).toBeGreaterThan(0);
  const differences = diffSchema(dataModel, await introspect());
  if (differences.length) {
    throw new Error(`prisma/migrations does not produce what prisma/schema.prisma describes (${differences.length} difference(s)):\n  ${differences.join('\n  ')}\nAdd a migration (or fix schema.prisma) so that they agree.`);
  }
});

it('checks every model of schema.prisma', async () => {
  // Guards the guard: a model whose table went unnoticed would make the comparison vacuous.
  const tables = Object.keys((await introspect()).tables).sort();
  expect(tables).toEqual([...dataModel.models.map((m) => m.dbName ?? m.name), '_prisma_migrations'].sort());
});

describe('reports a database that drifted from schema.prisma', () => {
  it.each<[string, string, string[]]>([
    ['an extra column', 'ALTER TABLE orders ADD COLUMN extra int',
      ['orders.extra: column in database, not in schema.prisma (model Order has no field mapped to it)']],
    ['a missing column', 'ALTER TABLE orders DROP COLUMN cancel_reason',
      ['orders.cancel_reason: column missing in database (Order.cancelReason String?)']],
    ['a nullable column for a required field', 'ALTER TABLE orders ALTER COLUMN customer_id DROP NOT NULL',
      ['orders.customer_id: nullable in database, required in schema.prisma (Order.customerId String)']],
    ['a NOT NULL column for an optional field', 'ALTER TABLE orders ALTER COLUMN cancel_reason SET NOT NULL',
      ['orders.cancel_reason: required (NOT NULL) in database, optional in schema.prisma (Order.cancelReason String?)']],
    ['another native type', 'ALTER TABLE orders ALTER COLUMN currency TYPE char(5)',
      ['orders.currency: type character(5) in database, schema.prisma expects character(3) (Order.currency String @db.Char(3))']],
    ['another timestamp precision', 'ALTER TABLE orders ALTER COLUMN updated_at TYPE timestamptz',
      ['orders.updated_at: type timestamp(6) with time zone in database, schema.prisma expects timestamp(3) with time zone (Order.updatedAt DateTime @db.Timestamptz(3))']],
    ['text instead of uuid', 'ALTER TABLE outbox_events ALTER COLUMN aggregate_id TYPE text',
      ['outbox_events.aggregate_id: type text in database, schema.prisma expects uuid (OutboxEvent.aggregateId String @db.Uuid)']],
    ['json instead of jsonb', 'ALTER TABLE outbox_events ALTER COLUMN payload TYPE json',
      ['outbox_events.payload: type json in database, schema.prisma expects jsonb (OutboxEvent.payload Json)']],
    ['text instead of an enum', 'ALTER TABLE orders ALTER COLUMN status TYPE text',
      ['orders.status: type text in database, schema.prisma expects enum OrderStatus (Order.status OrderStatus)']],
    ['a missing default', 'ALTER TABLE orders ALTER COLUMN created_at DROP DEFAULT',
      ['orders.created_at: no default in database, schema.prisma has @default(now()) (Order.createdAt DateTime @db.Timestamptz(3))']],
    ['a default the schema does not have', "ALTER TABLE orders ALTER COLUMN correlation_id SET DEFAULT 'none'",
      ["orders.correlation_id: default 'none'::text in database, schema.prisma has none (Order.correlationId String)"]],
    ['an extra enum value', `ALTER TYPE "OrderStatus" ADD VALUE 'REFUNDED'`,
      [expect.stringMatching(/^enum OrderStatus: values in database \[.*, REFUNDED\], schema\.prisma \[.*\] \(not in schema\.prisma: REFUNDED\)$/)]],
    ['a renamed enum value', `ALTER TYPE "OrderStatus" RENAME VALUE 'CANCELLED' TO 'CANCELED'`,
      [expect.stringMatching(/^enum OrderStatus: values in database \[.*CANCELED.*\], schema\.prisma \[.*CANCELLED.*\] \(missing in database: CANCELLED; not in schema\.prisma: CANCELED\)$/)]],
    ['an enum the schema does not have', `CREATE TYPE "Leftover" AS ENUM ('A')`,
      ['enum Leftover: type in database, no enum in schema.prisma maps to it']],
    ['a missing @@index', 'DROP INDEX orders_status_created_at_idx',
      ['orders: index on (status, created_at) missing in database (@@index([status, createdAt]))']],
    ['an index the schema does not have', 'CREATE INDEX orders_email_idx ON orders (customer_email)',
      ['orders: index orders_email_idx on (customer_email) in database, not in schema.prisma']],
    ['an index on other columns', 'DROP INDEX orders_customer_id_created_at_idx; CREATE INDEX orders_customer_id_created_at_idx ON orders (customer_id)',
      ['orders: index on (customer_id, created_at) missing in database (@@index([customerId, createdAt]))',
        'orders: index orders_customer_id_created_at_idx on (customer_id) in database, not in schema.prisma']],
    ['a missing @unique', 'DROP INDEX outbox_events_id_key',
      ['outbox_events: unique index on (id) missing in database (@unique on OutboxEvent.id)']],
    ['a plain index instead of a unique one', 'DROP INDEX sent_emails_message_id_key; CREATE INDEX sent_emails_message_id_key ON sent_emails (message_id)',
      ['sent_emails: unique index on (message_id) missing in database (@unique on SentEmail.messageId)',
        'sent_emails: index sent_emails_message_id_key on (message_id) in database, not in schema.prisma']],
    ['another primary key', 'ALTER TABLE order_lines DROP CONSTRAINT order_lines_pkey, ADD PRIMARY KEY (order_id)',
      ['order_lines: primary key (order_id) in database, schema.prisma has @@id([orderId, sku]) -> (order_id, sku)']],
    ['a missing primary key', 'ALTER TABLE sent_emails DROP CONSTRAINT sent_emails_pkey',
      ['sent_emails: no primary key in database, schema.prisma has @id on SentEmail.eventId -> (event_id)']],
    ['a missing foreign key', 'ALTER TABLE order_lines DROP CONSTRAINT order_lines_order_id_fkey',
      ['order_lines: foreign key (order_id) -> orders(id) missing in database (OrderLine.order @relation)']],
    ['another referential action', 'ALTER TABLE order_lines DROP CONSTRAINT order_lines_order_id_fkey, ADD CONSTRAINT order_lines_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders(id) ON DELETE RESTRICT ON UPDATE CASCADE',
      ['order_lines: foreign key (order_id) -> orders(id): ON DELETE RESTRICT in database, schema.prisma has onDelete: Cascade (OrderLine.order)']],
    ['a foreign key the schema does not have', 'ALTER TABLE sent_emails ADD CONSTRAINT sent_emails_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders(id)',
      ['sent_emails: foreign key sent_emails_order_id_fkey (order_id) -> orders(id) in database, not in schema.prisma']],
    ['a table no model maps to', 'CREATE TABLE stray (id int)',
      ['stray: table in database, no model in schema.prisma maps to it']],
    ['a renamed table', 'ALTER TABLE sent_emails RENAME TO sent_mail',
      ['sent_emails: table missing in database (model SentEmail)', 'sent_mail: table in database, no model in schema.prisma maps to it']],
  ])('%s', async (_name, sql, expected) => {
    expect(await differencesAfter(sql)).toEqual(expected);
  });

  it('but not tables in the inventory and payment schemas, which are not Prisma models', async () => {
    expect(await differencesAfter('CREATE SCHEMA inventory; CREATE TABLE inventory.products (sku text PRIMARY KEY)')).toEqual([]);
  });

  it('nor a database that still matches (the transactions above left nothing behind)', async () => {
    expect(diffSchema(dataModel, await introspect())).toEqual([]);
  });
});

it('reports a schema.prisma that drifted from the database', async () => {
  // The other direction, on a copy of the data model: Order.cancelReason made required.
  const changed = structuredClone(dataModel);
  const field = changed.models.find((m) => m.name === 'Order')!.fields.find((f) => f.name === 'cancelReason')!;
  field.isRequired = true;
  expect(diffSchema(changed, await introspect())).toEqual([
    'orders.cancel_reason: nullable in database, required in schema.prisma (Order.cancelReason String)',
  ]);
});
