import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { Pool, PoolClient } from 'pg';
import type { Config } from '../../common/config';
import { connectNats, type NatsConnectSettings } from '../../common/nats';
import { devNatsAuthorization } from '../../common/nats-server-config';
import { TEST_NATS_SCOPE, type NatsScope } from '../../common/nats-users';
import { eventSchemaVersions, type EventPayload, type EventType } from '../../common/events';
import { withTransaction } from '../../common/pg';
import { freePort, startNats, type StartedService } from '../../scripts/infra/spawn';

/** Test helpers for the event pipeline: a NATS server a test may stop, stream reading, outbox writing. */

export interface OwnNats {
  url: string;
  stop(): Promise<void>;
  /** Starts it again on the same port and store, as after an outage. */
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * A nats-server of this test's own (same binary `npm test` uses), so it can be stopped and
 * restarted; with our users, their dev passwords and permissions for `scope` (any test's, unless given).
 */
export async function startOwnNats(scope: NatsScope = TEST_NATS_SCOPE): Promise<OwnNats> {
  const bin = process.env.TEST_NATS_SERVER_BIN;
  if (!bin) throw new Error('TEST_NATS_SERVER_BIN is not set: run the tests with `npm test`.');
  const dir = mkdtempSync(join(tmpdir(), 'own-nats-'));
  const port = await freePort();
  let server: StartedService | undefined;
  const start = async () => { server = await startNats({ bin, dir: join(dir, 'store'), port, logFile: join(dir, 'nats.log'), authorization: devNatsAuthorization(scope) }); };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    start,
    async stop() { await server?.stop(); server = undefined; },
    async destroy() { await server?.stop(); rmSync(dir, { recursive: true, force: true }); },
  };
}

export interface StreamMessage { seq: number; subject: string; event: { id: string; type: string; orderId: string; schemaVersion: number; payload: unknown } }

/** Every message in the config's events stream, in stream order. */
export async function readStream(config: NatsConnectSettings & Pick<Config, 'EVENTS_STREAM'>): Promise<StreamMessage[]> {
  const nc = await connectNats(config, 'admin', { name: 'test-read-stream', waitOnFirstConnect: false });
  try {
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(config.EVENTS_STREAM);
    const messages: StreamMessage[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq += 1) {
      const msg = await jsm.streams.getMessage(config.EVENTS_STREAM, { seq }).catch(() => null);
      if (msg) messages.push({ seq, subject: msg.subject, event: msg.json() });
    }
    return messages;
  } finally {
    await nc.close();
  }
}

export async function streamMessageCount(config: NatsConnectSettings & Pick<Config, 'EVENTS_STREAM'>): Promise<number> {
  const nc = await connectNats(config, 'admin', { name: 'test-stream-count' });
  try {
    return (await (await jetstreamManager(nc)).streams.info(config.EVENTS_STREAM)).state.messages;
  } catch {
    return 0;
  } finally {
    await nc.close();
  }
}

export function samplePayload<T extends EventType>(type: T, orderId: string): EventPayload<T> {
  const lines = [{ sku: 'MUG-001', quantity: 2, unitPriceCents: 1250 }];
  const common = { customerId: `c-${orderId.slice(0, 4)}`, currency: 'EUR', totalCents: 2500 };
  const payloads: { [K in EventType]: EventPayload<K> } = {
    OrderPlaced: { ...common, lines, itemCount: 2 },
    StockReserved: { lines: [{ sku: 'MUG-001', quantity: 2 }] },
    PaymentConfirmationRequested: { paymentId: `pay-${orderId}`, deadline: new Date().toISOString() },
    PaymentAuthorized: { paymentId: `pay-${orderId}`, amountCents: 2500, currency: 'EUR' },
    PaymentCaptured: { paymentId: `pay-${orderId}`, amountCents: 2500, currency: 'EUR' },
    OrderConfirmed: common,
    OrderCancelled: { ...common, reasonCode: 'PAYMENT_DECLINED', reason: 'declined' },
    OrderCompensationFailed: { reasonCode: 'PROCESSING_FAILED', reason: 'x', pendingUndos: [] },
  };
  return payloads[type];
}

/** The address samplePayload's orders have in the order store (the email consumer reads it from there). */
export const sampleCustomerEmail = (orderId: string) => `${orderId.slice(0, 8)}@shop.example`;

/**
 * The order's row, as the writer keeps it next to its events (the email consumer reads the
 * customer's address from it); nothing if the order is there already.
 */
export async function insertSampleOrder(db: Pool | PoolClient, orderId: string, customerEmail = sampleCustomerEmail(orderId)): Promise<void> {
  await db.query(
    `INSERT INTO orders (id, client_id, customer_id, customer_email, currency, status, total_cents, correlation_id, updated_at)
     VALUES ($1, 'test-shop', $2, $3, 'EUR', 'PENDING', 2500, $4, now()) ON CONFLICT (id) DO NOTHING`,
    [orderId, `c-${orderId.slice(0, 4)}`, customerEmail, `corr-${orderId}`]);
}

/**
 * Writes one outbox row (and the order's row, if missing) in its own transaction, optionally
 * holding the transaction open before COMMIT.
 */
export async function writeOutboxEvent(pool: Pool, orderId: string, type: EventType, opts: { holdBeforeCommitMs?: number; payload?: unknown; schemaVersion?: number } = {}): Promise<string> {
  const id = randomUUID();
  await withTransaction(pool, async (tx) => {
    await insertSampleOrder(tx, orderId);
    await tx.query(
      `INSERT INTO outbox_events (id, aggregate_id, type, schema_version, occurred_at, correlation_id, causation_id, payload)
       VALUES ($1, $2, $3, $4, now(), $5, NULL, $6)`,
      [id, orderId, type, opts.schemaVersion ?? eventSchemaVersions[type], `corr-${orderId}`, JSON.stringify(opts.payload ?? samplePayload(type, orderId))]);
    if (opts.holdBeforeCommitMs) await sleep(opts.holdBeforeCommitMs);
  });
  return id;
}

export async function unpublishedCount(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM outbox_events WHERE published_at IS NULL');
  return Number(rows[0]!.n);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
