import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../common/config';
import { createDb, type Db } from '../common/db';
import type { DomainEvent } from '../common/events';
import type { Logger } from '../common/logger';
import type { RunningProcess } from '../common/run-process';
import { emailFor, messageIdFor } from './email-templates';
import { startEventConsumer, type HandleResult } from './event-consumer';

export const EMAIL_CONSUMER = 'email';
const CUSTOMER_FACING = new Set(['OrderConfirmed', 'OrderCancelled']);

/**
 * Sends the email for one event, once. The inbox check skips events already recorded; the send
 * happens before the record, so a crash in between resends the same message with the same
 * Message-ID (a receiving system or an operator can tell it is a duplicate).
 */
export async function sendEmailForEvent(db: Db, mailer: Transporter, from: string, event: DomainEvent): Promise<HandleResult> {
  const email = emailFor(event);
  if (!email) return 'ignored';
  const seen = await db.processedEvent.findUnique({ where: { consumer_eventId: { consumer: EMAIL_CONSUMER, eventId: event.id } } });
  if (seen) return 'already-processed';
  const messageId = messageIdFor(event.id);
  await mailer.sendMail({ from, to: email.to, subject: email.subject, text: email.text, messageId, headers: { 'X-Order-Id': event.orderId, 'X-Event-Id': event.id } });
  await db.$transaction([
    db.processedEvent.createMany({ data: [{ consumer: EMAIL_CONSUMER, eventId: event.id }], skipDuplicates: true }),
    db.sentEmail.createMany({ data: [{ eventId: event.id, orderId: event.orderId, messageId, recipient: email.to, subject: email.subject }], skipDuplicates: true }),
  ]);
  return 'applied';
}

export async function startEmailConsumer(config: Config, logger: Logger): Promise<RunningProcess> {
  const db = createDb(config.DATABASE_URL);
  const mailer = nodemailer.createTransport(config.SMTP_URL);
  return startEventConsumer(config, logger, {
    name: EMAIL_CONSUMER,
    handles: CUSTOMER_FACING,
    handle: (event) => sendEmailForEvent(db, mailer, config.EMAIL_FROM, event),
  }, async () => {
    mailer.close();
    await db.$disconnect();
  });
}
