import type { Db } from '../db';
import { consumerSubscriptions } from '../../workers/subscriptions';
import type { ConsumerInboxView, OrderRowView, OutboxView, SentEmailView, TransitionView } from './inspection';

/** What the order service's own tables say about one order (Prisma, schema public). */
export interface DatabaseFacts {
  order: OrderRowView | null;
  transitions: TransitionView[];
  outbox: OutboxView[];
  inboxes: ConsumerInboxView[];
  emails: SentEmailView[];
}

const iso = (d: Date) => d.toISOString();
const lagSeconds = (from: Date, to: Date) => Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));

export async function readDatabaseFacts(db: Db, orderId: string, now: Date): Promise<DatabaseFacts> {
  const [row, events] = await Promise.all([
    db.order.findUnique({ where: { id: orderId } }),
    db.outboxEvent.findMany({ where: { aggregateId: orderId }, orderBy: { sequence: 'asc' } }),
  ]);
  const processed = events.length === 0 ? [] : await db.processedEvent.findMany({ where: { eventId: { in: events.map((e) => e.id) } } });
  // After the inboxes: the email consumer marks an email SENT in the transaction that fills its inbox,
  // so an email read later is never behind the inbox read before it.
  const emails = await db.sentEmail.findMany({ where: { orderId }, orderBy: { sentAt: 'asc' } });
  const handledAt = new Map(processed.map((p) => [`${p.consumer}/${p.eventId}`, p.processedAt]));
  return {
    order: row && {
      status: row.status, clientId: row.clientId, customerId: row.customerId, totalCents: row.totalCents, currency: row.currency,
      cancelReasonCode: row.cancelReasonCode, pendingUndos: row.pendingUndos, correlationId: row.correlationId,
      createdAt: iso(row.createdAt), updatedAt: iso(row.updatedAt),
    },
    transitions: events.map((e) => ({ event: e.type, at: iso(e.occurredAt) })),
    outbox: events.map((e) => ({
      eventId: e.id, type: e.type, sequence: e.sequence.toString(), occurredAt: iso(e.occurredAt),
      publishedAt: e.publishedAt && iso(e.publishedAt), lagSeconds: lagSeconds(e.occurredAt, e.publishedAt ?? now),
    })),
    // One entry per (consumer, event it subscribes to): handled or not.
    inboxes: events.flatMap((e) => consumerSubscriptions.filter((c) => c.handles.has(e.type)).map((c) => {
      const at = handledAt.get(`${c.name}/${e.id}`);
      return { consumer: c.name, eventId: e.id, type: e.type, handled: at !== undefined, handledAt: at ? iso(at) : null };
    })),
    // Recipient left out: no personal data in an inspection.
    emails: emails.map((m) => ({ eventId: m.eventId, subject: m.subject, status: m.status, attempts: m.attempts, sentAt: iso(m.sentAt) })),
  };
}
