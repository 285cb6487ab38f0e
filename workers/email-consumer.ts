import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../common/config';
import { createDb, dbTimeouts, type Db } from '../common/db';
import type { DomainEvent } from '../common/events';
import type { Logger } from '../common/logger';
import { emailFor, messageIdFor } from './email-templates';
import { startEventConsumer, type HandleResult, type RunningConsumer } from './event-consumer';

export const EMAIL_CONSUMER = 'email';
/** The events that send the customer an email: this consumer's subscription. */
export const CUSTOMER_FACING: ReadonlySet<string> = new Set(['OrderConfirmed', 'OrderCancelled']);

/**
 * Sends the email for one event, once.
 *
 * SMTP cannot join our transaction, so the send is bracketed: a `sent_emails` row is claimed
 * (SENDING) and committed before the SMTP call; after the server accepted the mail, the row is
 * marked SENT together with the inbox row. A redelivery then finds the inbox row and sends
 * nothing. If the process died between the SMTP call and the mark, the redelivery finds a
 * SENDING row: the mail may have gone out, so it is sent again with the same Message-ID
 * (`<eventId@order-orchestrator>`), which lets the receiving side drop the duplicate, and the
 * resend is counted in `attempts` and logged. That is the one case a customer could get two.
 */
export async function sendEmailForEvent(db: Db, mailer: Transporter, from: string, event: DomainEvent, logger?: Logger): Promise<HandleResult> {
  const email = emailFor(event);
  if (!email) return 'ignored';
  const seen = await db.processedEvent.findUnique({ where: { consumer_eventId: { consumer: EMAIL_CONSUMER, eventId: event.id } } });
  if (seen) return 'already-processed';
  const messageId = messageIdFor(event.id);
  const previous = await db.sentEmail.findUnique({ where: { eventId: event.id }, select: { status: true, attempts: true } });
  if (previous?.status === 'SENDING') {
    logger?.warn({ eventId: event.id, messageId, attempts: previous.attempts + 1 }, 'email may already have been sent (crash after sending); sending again with the same Message-ID');
  }
  await db.sentEmail.upsert({
    where: { eventId: event.id },
    create: { eventId: event.id, orderId: event.orderId, messageId, recipient: email.to, subject: email.subject, status: 'SENDING', attempts: 1 },
    update: { attempts: { increment: 1 }, status: 'SENDING' },
  });
  try {
    await mailer.sendMail({ from, to: email.to, subject: email.subject, text: email.text, messageId, headers: { 'X-Order-Id': event.orderId, 'X-Event-Id': event.id } });
  } catch (err) {
    // The SMTP server refused or was unreachable: not a crash after sending, so no warning on retry.
    await db.sentEmail.update({ where: { eventId: event.id }, data: { status: 'SEND_FAILED' } }).catch(() => undefined);
    throw err;
  }
  await db.$transaction([
    db.processedEvent.createMany({ data: [{ consumer: EMAIL_CONSUMER, eventId: event.id }], skipDuplicates: true }),
    db.sentEmail.update({ where: { eventId: event.id }, data: { status: 'SENT', sentAt: new Date() } }),
  ]);
  return 'applied';
}

export async function startEmailConsumer(config: Config, logger: Logger): Promise<RunningConsumer> {
  const db = createDb(config.DATABASE_URL, dbTimeouts(config));
  const mailer = nodemailer.createTransport(config.SMTP_URL);
  return startEventConsumer(config, logger, {
    name: EMAIL_CONSUMER,
    handles: CUSTOMER_FACING,
    handle: (event) => sendEmailForEvent(db, mailer, config.EMAIL_FROM, event, logger),
  }, async () => {
    mailer.close();
    await db.$disconnect();
  });
}
