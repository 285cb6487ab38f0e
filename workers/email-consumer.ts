import { setTimeout as sleep } from 'node:timers/promises';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Pool } from 'pg';
import type { Config } from '../common/config';
import { createPool, dbTimeouts } from '../common/pg';
import type { DomainEvent } from '../common/events';
import { correlationHeaders } from '../common/correlation-context';
import type { Logger } from '../common/logger';
import { inSpan, SpanKind } from '../common/tracing';
import { isErasedEmail } from '../common/personal-data';
import { emailFor, messageIdFor } from './email-templates';
import { startInboxPruning } from './consumer-inbox';
import { recordConsumerLag } from './consumer-lag';
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
 *
 * A database outage between the SMTP call and the mark must not become that case: the mark is
 * retried here, in-process, with backoff (MarkSentRetry, up to 5 minutes by default), while the
 * consumer keeps the message in progress with the broker and does not acknowledge it. Only if the
 * database stays away longer, or the consumer is stopped meanwhile, does the handler fail, and the
 * redelivery resends with the same Message-ID.
 */
export async function sendEmailForEvent(
  pool: Pool, mailer: Transporter, from: string, event: DomainEvent, logger?: Logger,
  options: { markRetry?: Partial<MarkSentRetry>; signal?: AbortSignal } = {},
): Promise<HandleResult> {
  const email = emailFor(event);
  if (!email) return 'ignored';
  const { seen, to } = await inboxAndRecipient(pool, event);
  if (seen) return 'already-processed';
  if (!to) {
    // Erased (or never stored here): nothing to send, now or on a redelivery, so no retry.
    logger?.info({ eventId: event.id, orderId: event.orderId, type: event.type }, 'no email sent: the order\'s personal data was erased');
    return 'ignored';
  }
  const messageId = messageIdFor(event.id);
  const claim = await pool.query<{ previous_status: string | null; attempts: number }>({
    name: 'sent-email-claim',
    // `previous` reads the row as it was before this statement's upsert.
    text: `WITH previous AS (SELECT status FROM sent_emails WHERE event_id = $1::uuid)
           INSERT INTO sent_emails (event_id, order_id, message_id, recipient, subject, status, attempts)
           VALUES ($1::uuid, $2::uuid, $3, $4, $5, 'SENDING', 1)
           ON CONFLICT (event_id) DO UPDATE SET attempts = sent_emails.attempts + 1, status = 'SENDING'
           RETURNING (SELECT status FROM previous) AS previous_status, attempts`,
    values: [event.id, event.orderId, messageId, to, email.subject],
  });
  const claimed = claim.rows[0]!;
  if (claimed.previous_status === 'SENDING') {
    logger?.warn({ eventId: event.id, messageId, attempts: claimed.attempts }, 'email may already have been sent (crash after sending); sending again with the same Message-ID');
  }
  try {
    // A span of its own (no address in it): the SMTP exchange is the end of the order's trace.
    await inSpan('smtp send', { kind: SpanKind.CLIENT, attributes: { 'messaging.message.id': event.id, 'email.type': event.type } }, () =>
      mailer.sendMail({ from, to, subject: email.subject, text: email.text, messageId, headers: { 'X-Order-Id': event.orderId, 'X-Event-Id': event.id, ...correlationHeaders() } }));
  } catch (err) {
    // The SMTP server refused or was unreachable: not a crash after sending, so no warning on retry.
    await pool.query({ name: 'sent-email-failed', text: `UPDATE sent_emails SET status = 'SEND_FAILED' WHERE event_id = $1::uuid`, values: [event.id] })
      .catch(() => undefined);
    throw new SmtpSendError(err);
  }
  const sentAt = new Date();
  // Idempotent: the inbox row is skipped if there, and marking SENT twice is the same as once.
  await retryMarkSent(() => markSent(pool, event.id, sentAt), { ...DEFAULT_MARK_SENT_RETRY, ...options.markRetry }, { eventId: event.id, messageId }, logger, options.signal);
  logger?.info({ eventId: event.id, type: event.type, messageId }, 'email sent');
  return 'applied';
}

/**
 * Whether this consumer already handled the event (its inbox row, or its mail marked SENT: the
 * sent_emails row outlives the inbox's INBOX_RETENTION), and the customer's address from the order
 * store: events carry none (common/events.ts, "Personal data"). No address when the order's
 * personal data was erased (`ops customer erase`) or the order is gone.
 */
async function inboxAndRecipient(pool: Pool, event: DomainEvent): Promise<{ seen: boolean; to: string | null }> {
  const { rows } = await pool.query<{ seen: boolean; customer_email: string | null }>({
    name: 'email-inbox-and-recipient',
    text: `SELECT EXISTS (SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2::uuid)
                  OR EXISTS (SELECT 1 FROM sent_emails WHERE event_id = $2::uuid AND status = 'SENT') AS seen,
                  (SELECT customer_email FROM orders WHERE id = $3::uuid) AS customer_email`,
    values: [EMAIL_CONSUMER, event.id, event.orderId],
  });
  const { seen, customer_email: address } = rows[0]!;
  return { seen, to: address !== null && !isErasedEmail(address) ? address : null };
}

/**
 * The SENT mark and the inbox row, in one statement (so one transaction, one round trip): the
 * inbox row is written only if the mark found the claim row.
 */
async function markSent(pool: Pool, eventId: string, sentAt: Date): Promise<void> {
  const { rows } = await pool.query<{ marked: number }>({
    name: 'email-mark-sent',
    text: `WITH marked AS (
             UPDATE sent_emails SET status = 'SENT', sent_at = $3 WHERE event_id = $2::uuid RETURNING event_id),
           inbox AS (
             INSERT INTO processed_events (consumer, event_id) SELECT $1, event_id FROM marked ON CONFLICT DO NOTHING)
           SELECT count(*)::int AS marked FROM marked`,
    values: [EMAIL_CONSUMER, eventId, sentAt],
  });
  if (rows[0]!.marked === 0) throw new Error(`the sent_emails row of event ${eventId} is gone (deleted while its email was being sent); it cannot be marked sent`);
}

/**
 * Why a send failed, told by the SMTP reply code and the command it answered (`SMTP 550 (RCPT TO)`),
 * or the mail library's error code when no reply came (`SMTP no reply (ECONNECTION)`). Never the
 * server's reply text or the library's message: they quote the recipient ("550 5.1.1
 * <jane@shop.example>: Recipient address rejected"), and this error's message goes on to the
 * consumer's log, the dead letter and the operator inspection.
 */
export class SmtpSendError extends Error {
  override readonly name = 'SmtpSendError';
  /** The server's reply code, if it replied (5xx: refused for good, 4xx: try later). */
  readonly responseCode?: number;

  constructor(failure: unknown) {
    const { responseCode, command, code } = (failure ?? {}) as { responseCode?: unknown; command?: unknown; code?: unknown };
    // Only short tokens (`RCPT TO`, `ECONNECTION`): nothing a server or library could put an address in.
    const token = (value: unknown) => typeof value === 'string' && /^[A-Z][A-Z0-9 _-]{0,30}$/i.test(value) ? value : undefined;
    const replied = typeof responseCode === 'number' && Number.isInteger(responseCode);
    const detail = (replied ? [token(command)] : [token(command), token(code)]).filter((part) => part !== undefined);
    super(`SMTP ${replied ? responseCode : 'no reply'}${detail.length > 0 ? ` (${detail.join(', ')})` : ''}`);
    if (replied) this.responseCode = responseCode;
  }
}

/** How the mark after a successful send is retried while the database is away. */
export interface MarkSentRetry {
  /** First wait between attempts; doubles per attempt up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Retrying stops this long after the first failure (then the handler fails and the message is redelivered). */
  giveUpAfterMs: number;
  /** One attempt that has not answered after this long counts as failed (a hung connection must not hold the message forever). */
  attemptTimeoutMs: number;
}

/** Rides out a Postgres restart or failover; the message stays in progress meanwhile. */
export const DEFAULT_MARK_SENT_RETRY: MarkSentRetry = { baseDelayMs: 250, maxDelayMs: 5_000, giveUpAfterMs: 5 * 60_000, attemptTimeoutMs: 10_000 };

async function retryMarkSent(
  mark: () => PromiseLike<unknown>, policy: MarkSentRetry, fields: { eventId: string; messageId: string }, logger: Logger | undefined, signal: AbortSignal | undefined,
): Promise<void> {
  let firstFailure: number | undefined;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await withTimeout(mark(), policy.attemptTimeoutMs, 'marking the email sent');
      if (attempt > 1) logger?.info({ ...fields, attempts: attempt }, 'email marked sent after the database came back');
      return;
    } catch (err) {
      firstFailure ??= Date.now();
      const waited = Date.now() - firstFailure;
      if (waited >= policy.giveUpAfterMs || signal?.aborted) {
        logger?.error({ ...fields, attempts: attempt, waitedMs: waited, stopping: signal?.aborted ?? false, err: (err as Error).message },
          'email was sent but could not be marked sent; the redelivery will send it again with the same Message-ID');
        throw err;
      }
      const delayMs = Math.min(policy.baseDelayMs * 2 ** (attempt - 1), policy.maxDelayMs, policy.giveUpAfterMs - waited);
      logger?.warn({ ...fields, attempt, retryInMs: delayMs, err: (err as Error).message }, 'email sent, but marking it sent failed; retrying without sending again');
      // A stop cuts the wait short: one last attempt, then the handler gives up.
      await sleep(delayMs, undefined, { signal }).catch(() => undefined);
    }
  }
}

async function withTimeout<T>(attempt: PromiseLike<T>, timeoutMs: number, what: string): Promise<T> {
  const work = Promise.resolve(attempt);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined); // a late failure of the abandoned attempt is not unhandled
  }
}

/**
 * The consumer's SMTP transport: a pool of connections, each reused for up to
 * SMTP_POOL_MAX_MESSAGES mails instead of a connection, greeting and EHLO per mail. A connection
 * the server closed while idle (most do after a timeout) is dropped from the pool and the next
 * mail opens a new one; a mail that finds its reused connection closed before any of it was sent
 * is put back on the pool's queue, one broken during its transfer fails its send (the handler
 * throws, the event is redelivered). close() ends the idle connections at once.
 */
export function createMailer(config: Pick<Config, 'SMTP_URL' | 'SMTP_POOL_MAX_CONNECTIONS' | 'SMTP_POOL_MAX_MESSAGES'>): Transporter {
  return nodemailer.createTransport({
    url: config.SMTP_URL, pool: true, maxConnections: config.SMTP_POOL_MAX_CONNECTIONS, maxMessages: config.SMTP_POOL_MAX_MESSAGES,
  });
}

export async function startEmailConsumer(config: Config, logger: Logger): Promise<RunningConsumer> {
  const pool = createPool(config.DATABASE_URL, dbTimeouts(config), config.DATABASE_POOL_MAX,
    (err) => logger.error({ err: err.message }, 'idle email database connection failed; it will be replaced'));
  const mailer = createMailer(config);
  const stopping = new AbortController();
  const pruning = startInboxPruning(pool, EMAIL_CONSUMER, config.INBOX_RETENTION, logger);
  const consumer = await startEventConsumer(config, logger, {
    name: EMAIL_CONSUMER,
    handles: CUSTOMER_FACING,
    handle: (event) => sendEmailForEvent(pool, mailer, config.EMAIL_FROM, event, logger, { signal: stopping.signal }),
    reportBacklog: (state) => recordConsumerLag(pool, EMAIL_CONSUMER, state),
  }, async () => {
    mailer.close();
    await pruning.stop();
    await pool.end();
  });
  return {
    registry: consumer.registry,
    async stop() {
      stopping.abort(); // a mark still being retried gets one last attempt instead of holding the stop for minutes
      await consumer.stop();
    },
  };
}
