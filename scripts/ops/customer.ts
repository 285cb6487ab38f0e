import { loadConfig } from '../../common/config';
import { createDb, dbTimeouts, type Db } from '../../common/db';
import { ERASED_EMAIL } from '../../common/personal-data';
import { UsageError, type OpsCommand, type OptionValues } from './command';

/**
 * `ops customer erase <customerId>`: erases the personal data we hold about one customer, in one
 * transaction, and says what it changed. What holds it (README, "Personal data"):
 * - orders.customer_email: replaced by the tombstone ERASED_EMAIL (the email consumer then sends
 *   nothing for the order; the rest of the order stays for the books);
 * - sent_emails.recipient: the same tombstone;
 * - outbox_events still kept (OUTBOX_RETENTION): OrderConfirmed/OrderCancelled v1 rows carried
 *   customerEmail; the field is removed and the row becomes v2, the same event without it, so an
 *   unpublished row is still published and read;
 * - the order vault (order_vault, common/order-vault.ts): the email and card token of the
 *   customer's orders still running or not yet recorded are deleted (such an order then cannot
 *   be recorded or charged and ends cancelled).
 * Not here: events already in the NATS stream and its dead letters (bounded by EVENTS_MAX_AGE,
 * see the README for purging them sooner) and the payment and inventory services (their own
 * schemas, their own owners). Running it again changes nothing.
 */
export interface ErasureCounts {
  orders: number;
  sentEmails: number;
  outboxEvents: number;
  vaultRows: number;
}

const CARRIED_EMAIL = ['OrderConfirmed', 'OrderCancelled'];

/** Customer ids are each shop's own: a customer is (client, customer id), and only that pair is erased. */
export async function eraseCustomer(db: Db, clientId: string, customerId: string): Promise<ErasureCounts> {
  return db.$transaction(async (tx) => {
    // Every order of the customer, locked so no status change writes an event between the steps.
    const orders = (await tx.$queryRaw<{ id: string }[]>`SELECT id::text FROM orders WHERE client_id = ${clientId} AND customer_id = ${customerId} ORDER BY id FOR UPDATE`).map((o) => o.id);
    const ids = orders.length > 0 ? orders : ['00000000-0000-0000-0000-000000000000'];
    // The keyed request's fingerprint goes too: a hash over a body that held the address and card token.
    const erasedOrders = await tx.$executeRaw`UPDATE orders SET customer_email = ${ERASED_EMAIL}, request_hash = NULL, updated_at = now()
      WHERE id = ANY(${ids}::uuid[]) AND (customer_email <> ${ERASED_EMAIL} OR request_hash IS NOT NULL)`;
    const sentEmails = await tx.$executeRaw`UPDATE sent_emails SET recipient = ${ERASED_EMAIL}
      WHERE order_id = ANY(${ids}::uuid[]) AND recipient <> ${ERASED_EMAIL}`;
    const outboxEvents = await tx.$executeRaw`UPDATE outbox_events SET payload = payload - 'customerEmail', schema_version = 2
      WHERE aggregate_id = ANY(${ids}::uuid[]) AND type = ANY(${CARRIED_EMAIL}::text[]) AND payload ? 'customerEmail'`;
    const vaultRows = await tx.$executeRaw`DELETE FROM order_vault WHERE (client_id = ${clientId} AND customer_id = ${customerId}) OR order_id = ANY(${ids}::uuid[])`;
    return { orders: erasedOrders, sentEmails, outboxEvents, vaultRows };
  });
}

async function erase([customerId, ...extra]: string[], values: OptionValues): Promise<void> {
  const clientId = typeof values.client === 'string' ? values.client : undefined;
  if (!clientId || !customerId || extra.length > 0) {
    throw new UsageError('customer erase: give the shop and exactly one customer id: customer erase --client <clientId> <customerId> (customer ids are each shop\'s own)');
  }
  const config = loadConfig();
  const db = createDb(config.DATABASE_URL, dbTimeouts(config));
  try {
    const counts = await eraseCustomer(db, clientId, customerId);
    console.log(`erased the personal data of customer ${customerId} of client ${clientId}:`);
    console.log(`  orders (customer_email)          ${counts.orders}`);
    console.log(`  sent emails (recipient)          ${counts.sentEmails}`);
    console.log(`  outbox events (customerEmail)    ${counts.outboxEvents}`);
    console.log(`  order vault (email, card token)  ${counts.vaultRows}`);
    console.log('Events already published stay in the NATS stream and its dead letters until EVENTS_MAX_AGE (README, "Personal data").');
  } finally {
    await db.$disconnect();
  }
}

export const customerCommands: OpsCommand[] = [
  { name: 'customer erase', args: '--client <clientId> <customerId>', options: { client: { type: 'string' } }, summary: 'erase a customer\'s personal data (email address in orders, sent mail, outbox, order vault); prints counts', run: erase },
];
