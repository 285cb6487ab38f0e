import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'pg';
import type { Logger } from '../../common/logger';
import { PAYMENT_SIGNATURE_HEADER, signWebhook } from '../../common/webhook-signature';

export interface WebhookEvent {
  id: string;
  /** Exactly the bytes that are signed and sent, the same on every attempt and redelivery. */
  body: string;
}

export interface WebhookRetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
}

/** About two and a half minutes of retries, enough to ride out a restart of the receiver. */
export const DEFAULT_WEBHOOK_RETRY: WebhookRetryPolicy = { attempts: 10, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 5_000 };

export interface WebhookSenderOptions {
  /** Without a URL, events are stored but not sent. */
  url?: string;
  /** Signs what is sent (PAYMENT_WEBHOOK_SECRET); required with a URL. */
  secret?: string;
  pool: Pool;
  logger: Logger;
  retry?: Partial<WebhookRetryPolicy>;
}

/**
 * Delivers webhook events in the background, retrying with exponential backoff on network errors
 * and non-2xx answers. Each attempt is signed afresh (new timestamp); the event id stays the same,
 * so receivers de-duplicate on it. Attempts and delivery are noted on the stored event.
 */
export class WebhookSender {
  private readonly retry: WebhookRetryPolicy;
  /** Where events go and the secret they are signed with; undefined without a URL. */
  private readonly target?: { url: string; secret: string };
  private readonly inFlight = new Set<Promise<void>>();
  private readonly closing = new AbortController();

  constructor(private readonly options: WebhookSenderOptions) {
    if (options.url) {
      if (!options.secret) throw new Error('webhooks need a secret to be signed with when a webhook URL is set (PAYMENT_WEBHOOK_SECRET)');
      this.target = { url: options.url, secret: options.secret };
    }
    this.retry = { ...DEFAULT_WEBHOOK_RETRY, ...options.retry };
  }

  deliver(event: WebhookEvent): void {
    if (!this.target) {
      this.options.logger.info({ eventId: event.id }, 'webhook event stored but not sent: PAYMENT_WEBHOOK_URL is not set');
      return;
    }
    if (this.closing.signal.aborted) {
      this.options.logger.warn({ eventId: event.id }, 'webhook event not sent: the payment service is stopping');
      return;
    }
    const delivery = this.deliverWithRetries(this.target, event).finally(() => this.inFlight.delete(delivery));
    this.inFlight.add(delivery);
  }

  /** Picks up events a previous run stored but never got through (it stopped or crashed meanwhile). */
  async resendUndelivered(maxAgeHours = 24): Promise<void> {
    if (!this.target) return;
    try {
      const { rows } = await this.options.pool.query<WebhookEvent>(
        `SELECT id, body FROM payment.webhook_events
          WHERE delivered_at IS NULL AND created_at > now() - make_interval(hours => $1) ORDER BY created_at`, [maxAgeHours]);
      if (rows.length > 0) this.options.logger.info({ count: rows.length }, 'resending webhook events not delivered before the last stop');
      for (const event of rows) this.deliver(event);
    } catch (err) {
      this.options.logger.error({ err }, 'could not look for undelivered webhook events; they stay stored and are retried at the next start');
    }
  }

  /** Stops retrying and waits for attempts in progress to end. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.inFlight]);
  }

  private async deliverWithRetries(target: { url: string; secret: string }, event: WebhookEvent): Promise<void> {
    const { logger } = this.options;
    for (let attempt = 1; attempt <= this.retry.attempts; attempt++) {
      const error = await this.attempt(target, event);
      await this.noteAttempt(event.id, error);
      if (!error) {
        logger.info({ eventId: event.id, attempt }, 'webhook delivered');
        return;
      }
      if (this.closing.signal.aborted) break;
      if (attempt === this.retry.attempts) break;
      const delayMs = Math.min(this.retry.baseDelayMs * 2 ** (attempt - 1), this.retry.maxDelayMs);
      logger.warn({ eventId: event.id, attempt, error, retryInMs: delayMs }, 'webhook delivery failed; will retry');
      try {
        await sleep(delayMs, undefined, { signal: this.closing.signal, ref: false });
      } catch {
        break;
      }
    }
    logger.error({ eventId: event.id, url: target.url }, 'webhook delivery gave up; the receiver never answered 2xx. Re-send it by repeating POST /test/3ds/{orderId} with the same outcome.');
  }

  /** Returns why the attempt failed, or undefined when the receiver answered 2xx. */
  private async attempt({ url, secret }: { url: string; secret: string }, event: WebhookEvent): Promise<string | undefined> {
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [PAYMENT_SIGNATURE_HEADER]: signWebhook(secret, timestamp, event.body) },
        body: event.body,
        signal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(this.retry.timeoutMs)]),
      });
      await response.arrayBuffer().catch(() => undefined);
      return response.ok ? undefined : `receiver answered HTTP ${response.status}`;
    } catch (err) {
      // fetch hides the useful part (ECONNREFUSED, timeout, ...) in `cause`
      const { message, cause } = err as Error & { cause?: { code?: string; message?: string } };
      return `request failed: ${message}${cause ? ` (${cause.code ?? cause.message})` : ''}`;
    }
  }

  private async noteAttempt(eventId: string, error: string | undefined): Promise<void> {
    try {
      await this.options.pool.query(
        `UPDATE payment.webhook_events SET attempts = attempts + 1, last_error = $2,
           delivered_at = CASE WHEN $2::text IS NULL THEN coalesce(delivered_at, now()) ELSE delivered_at END
         WHERE id = $1`, [eventId, error ?? null]);
    } catch (err) {
      this.options.logger.warn({ err, eventId }, 'could not note a webhook attempt in the database');
    }
  }
}
