import { jetstreamManager } from '@nats-io/jetstream';
import { Client } from 'pg';
import { connectNats, dlqStreamName } from '../../common/nats';
import { terminalStatuses, type OrderStatus } from '../../common/order/status';
import { DLQ_HEADERS } from '../../workers/dead-letters';
import { messageIdFor } from '../../workers/email-templates';
import type { PlacedOrder } from './load';
import { CHAOS_SKUS } from './load';

/**
 * After the run: the promises checked from each service's own records (orders and outbox in our
 * database, inventory's and payment's own tables, the stream, the consumers, the mail received).
 * Each check is a row of figures with the violations it found.
 */
export interface CheckResult {
  id: string;
  promise: string;
  figures: Record<string, number>;
  violations: string[];
}

export interface CheckContext {
  databaseUrl: string;
  natsUrl: string;
  stream: string;
  orders: PlacedOrder[];
  /** Message-IDs of every mail the SMTP sink received, in order (duplicates included). */
  mails: { messageId: string | undefined; to: string[] }[];
  poisonInjected: number;
  emailCrashes: number;
}

const isTerminal = (status: string) => terminalStatuses.has(status as OrderStatus);
const limit = (list: string[], n = 10) => (list.length > n ? [...list.slice(0, n), `… and ${list.length - n} more`] : list);

async function query<T>(db: Client, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await db.query(sql, params)).rows as T[];
}

export async function runChecks(ctx: CheckContext): Promise<CheckResult[]> {
  const db = new Client({ connectionString: ctx.databaseUrl });
  await db.connect();
  try {
    const accepted = ctx.orders.filter((o) => o.accepted);
    const orderIds = [...new Set(accepted.flatMap((o) => [...o.orderIds]))];
    const rows = await query<{ id: string; status: string; total_cents: number }>(db, "SELECT id, status, total_cents FROM orders WHERE customer_id LIKE 'chaos-%'");
    const byId = new Map(rows.map((r) => [r.id, r]));
    return [
      checkO1(ctx, accepted, orderIds, rows, byId),
      await checkO2(db),
      await checkO3(db, byId),
      await checkO4(db, ctx),
      await checkO5(db, ctx),
      await checkO6(ctx),
    ];
  } finally {
    await db.end();
  }
}

function checkO1(ctx: CheckContext, accepted: PlacedOrder[], orderIds: string[], rows: { id: string; status: string }[], byId: Map<string, { status: string }>): CheckResult {
  const violations: string[] = [];
  for (const o of accepted) if (o.orderIds.size > 1) violations.push(`key ${o.key} answered with ${o.orderIds.size} orders: ${[...o.orderIds].join(', ')}`);
  for (const id of orderIds) {
    const row = byId.get(id);
    if (!row) violations.push(`order ${id} was accepted but is not in the database`);
    else if (!isTerminal(row.status)) violations.push(`order ${id} is not terminal: ${row.status}`);
  }
  const unknown = rows.filter((r) => !orderIds.includes(r.id));
  for (const r of unknown) violations.push(`order ${r.id} (${r.status}) exists but no client was told about it`);
  const notAccepted = ctx.orders.filter((o) => !o.accepted);
  for (const o of notAccepted) violations.push(`key ${o.key} (${o.scenario}) never got an answer the client could act on: ${o.lastError ?? 'no answer'}`);
  for (const o of accepted.filter((a) => a.cancelGaveUp)) violations.push(`the cancel of order ${[...o.orderIds][0]} never got a final answer: ${o.lastError ?? ''}`);
  return {
    id: 'O1', promise: 'every accepted order terminal; one order per key',
    figures: { keys: ctx.orders.length, accepted: accepted.length, refused: notAccepted.length, orders_in_db: rows.length, terminal: rows.filter((r) => isTerminal(r.status)).length },
    violations: limit(violations),
  };
}

async function checkO2(db: Client): Promise<CheckResult> {
  const violations: string[] = [];
  const figures: Record<string, number> = {};
  for (const { sku, stock } of Object.values(CHAOS_SKUS)) {
    const [product] = await query<{ stock: number; reserved: number }>(db, 'SELECT stock, reserved FROM inventory.products WHERE sku = $1', [sku]);
    const [sold] = await query<{ n: string | null }>(db, `
      SELECT sum(l.quantity) AS n FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.status = 'CONFIRMED' AND l.sku = $1`, [sku]);
    const confirmed = Number(sold?.n ?? 0);
    figures[`${sku}_sold`] = confirmed;
    figures[`${sku}_reserved`] = product?.reserved ?? -1;
    if (!product) violations.push(`${sku} is missing`);
    else {
      if (stock - confirmed !== product.stock) violations.push(`${sku}: stock ${product.stock}, expected ${stock} - ${confirmed} confirmed = ${stock - confirmed}`);
      if (product.reserved !== 0) violations.push(`${sku}: ${product.reserved} still reserved`);
    }
  }
  const open = await query<{ order_id: string }>(db, "SELECT order_id FROM inventory.reservations WHERE status = 'RESERVED'");
  for (const r of open) violations.push(`reservation of order ${r.order_id} still RESERVED`);
  figures.open_reservations = open.length;
  return { id: 'O2', promise: 'stock conserved, nothing left reserved', figures, violations: limit(violations) };
}

async function checkO3(db: Client, byId: Map<string, { status: string; total_cents: number }>): Promise<CheckResult> {
  const violations: string[] = [];
  const ops = await query<{ order_id: string; kind: string; outcome: string; seq: string }>(db, "SELECT order_id, kind, outcome, seq FROM payment.operations WHERE outcome = 'approved' ORDER BY seq");
  const payments = await query<{ order_id: string; status: string; captured_cents: number; refunded_cents: number }>(db, 'SELECT order_id, status, captured_cents, refunded_cents FROM payment.payments');
  let holds = 0;
  let charged = 0;
  for (const [orderId, order] of byId) {
    const mine = payments.filter((p) => p.order_id === orderId);
    const held = mine.filter((p) => p.status === 'AUTHORIZED' || p.status === 'REQUIRES_CONFIRMATION');
    holds += held.length;
    if (isTerminal(order.status) && held.length > 0) violations.push(`order ${orderId} (${order.status}) still has ${held.length} card hold(s)`);
    const net = mine.reduce((n, p) => n + p.captured_cents - p.refunded_cents, 0);
    if (net > 0) charged += 1;
    const expected = order.status === 'CONFIRMED' ? order.total_cents : 0;
    if (order.status !== 'COMPENSATION_FAILED' && net !== expected) violations.push(`order ${orderId} (${order.status}) net charge ${net}, expected ${expected}`);
    const myOps = ops.filter((o) => o.order_id === orderId);
    const captures = myOps.filter((o) => o.kind === 'capture');
    if (captures.length > 1) violations.push(`order ${orderId} captured ${captures.length} times`);
    const firstVoid = myOps.find((o) => o.kind === 'void');
    if (firstVoid && captures.some((c) => Number(c.seq) > Number(firstVoid.seq))) violations.push(`order ${orderId} captured after its void`);
  }
  return { id: 'O3', promise: 'no hold left, at most one capture, net charge = total iff CONFIRMED, no capture after void', figures: { payments: payments.length, holds_left: holds, orders_charged: charged }, violations: limit(violations) };
}

async function checkO4(db: Client, ctx: CheckContext): Promise<CheckResult> {
  const violations: string[] = [];
  const outbox = await query<{ id: string; aggregate_id: string; sequence: string; published_at: Date | null }>(db, 'SELECT id, aggregate_id, sequence, published_at FROM outbox_events ORDER BY sequence');
  const unpublished = outbox.filter((r) => !r.published_at);
  for (const r of unpublished) violations.push(`outbox event ${r.id} not published`);
  const nc = await connectNats({ NATS_URL: ctx.natsUrl, NATS_USER: undefined, NATS_PASSWORD: undefined }, 'admin', { name: 'chaos-checks' });
  try {
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(ctx.stream);
    const streamIds: string[] = [];
    const streamOrder = new Map<string, string[]>();
    for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
      const msg = await jsm.streams.getMessage(ctx.stream, { seq }).catch(() => null);
      const id = msg?.header?.get('Nats-Msg-Id');
      if (!msg || !id) continue; // poison has no id
      streamIds.push(id);
      const orderId = (msg.json() as { orderId: string }).orderId;
      streamOrder.set(orderId, [...(streamOrder.get(orderId) ?? []), id]);
    }
    const outboxIds = new Set(outbox.map((r) => r.id));
    const dupes = streamIds.length - new Set(streamIds).size;
    if (dupes) violations.push(`${dupes} event(s) twice on the stream`);
    for (const id of streamIds) if (!outboxIds.has(id)) violations.push(`stream event ${id} is not in the outbox`);
    const onStream = new Set(streamIds);
    for (const r of outbox) if (!onStream.has(r.id)) violations.push(`outbox event ${r.id} is not on the stream`);
    const outboxOrder = new Map<string, string[]>();
    for (const r of outbox) outboxOrder.set(r.aggregate_id, [...(outboxOrder.get(r.aggregate_id) ?? []), r.id]);
    let reordered = 0;
    for (const [orderId, ids] of outboxOrder) if ((streamOrder.get(orderId) ?? []).join() !== ids.join()) reordered += 1;
    if (reordered) violations.push(`${reordered} order(s) whose events are on the stream in another order than written`);
    let lagging = 0;
    for await (const c of jsm.consumers.list(ctx.stream)) {
      if (c.num_pending > 0 || c.num_ack_pending > 0) {
        lagging += 1;
        violations.push(`consumer ${c.name}: ${c.num_pending} pending, ${c.num_ack_pending} unacknowledged`);
      }
    }
    return { id: 'O4', promise: 'every event published once, in order per order; consumers caught up', figures: { outbox: outbox.length, unpublished: unpublished.length, stream: streamIds.length, duplicates: dupes, lagging_consumers: lagging }, violations: limit(violations) };
  } finally {
    await nc.close();
  }
}

async function checkO5(db: Client, ctx: CheckContext): Promise<CheckResult> {
  const violations: string[] = [];
  const expected = await query<{ id: string; aggregate_id: string }>(db, "SELECT id, aggregate_id FROM outbox_events WHERE type IN ('OrderConfirmed', 'OrderCancelled')");
  const copies = new Map<string, number>();
  for (const m of ctx.mails) if (m.messageId) copies.set(m.messageId, (copies.get(m.messageId) ?? 0) + 1);
  let resends = 0;
  for (const e of expected) {
    const n = copies.get(messageIdFor(e.id)) ?? 0;
    if (n === 0) violations.push(`no email for event ${e.id} of order ${e.aggregate_id}`);
    if (n > 1) resends += n - 1;
  }
  const perOrder = new Map<string, number>();
  for (const e of expected) perOrder.set(e.aggregate_id, (perOrder.get(e.aggregate_id) ?? 0) + 1);
  for (const [orderId, n] of perOrder) if (n > 1) violations.push(`order ${orderId} has ${n} customer-facing end events`);
  if (resends > ctx.emailCrashes) violations.push(`${resends} resent email(s) but the email process crashed only ${ctx.emailCrashes} time(s)`);
  return { id: 'O5', promise: 'one email per terminal order (resends only after an email crash, same Message-ID)', figures: { expected: expected.length, received: ctx.mails.length, resends, email_crashes: ctx.emailCrashes }, violations: limit(violations) };
}

async function checkO6(ctx: CheckContext): Promise<CheckResult> {
  const violations: string[] = [];
  const nc = await connectNats({ NATS_URL: ctx.natsUrl, NATS_USER: undefined, NATS_PASSWORD: undefined }, 'admin', { name: 'chaos-checks' });
  try {
    const jsm = await jetstreamManager(nc);
    const dlq = dlqStreamName({ EVENTS_STREAM: ctx.stream });
    const { state } = await jsm.streams.info(dlq);
    const letters: { consumer: string; reason: string; seq: number }[] = [];
    for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
      const msg = await jsm.streams.getMessage(dlq, { seq }).catch(() => null);
      if (msg) letters.push({ consumer: msg.header?.get(DLQ_HEADERS.consumer) ?? '?', reason: msg.header?.get(DLQ_HEADERS.reason) ?? '', seq: Number(msg.header?.get(DLQ_HEADERS.streamSeq)) });
    }
    const subscribers = new Set(letters.map((l) => l.consumer)).size;
    const poisonSeqs = new Set(letters.filter((l) => /malformed|not an event|invalid/i.test(l.reason)).map((l) => l.seq));
    for (const l of letters) if (!poisonSeqs.has(l.seq)) violations.push(`dead letter for ${l.consumer} that is not poison: ${l.reason.slice(0, 160)}`);
    if (poisonSeqs.size !== ctx.poisonInjected) violations.push(`${ctx.poisonInjected} poison event(s) injected, ${poisonSeqs.size} dead-lettered`);
    return { id: 'O6', promise: 'dead letters = poison injected, nothing else', figures: { poison_injected: ctx.poisonInjected, dead_letters: letters.length, consumers_that_dead_lettered: subscribers }, violations: limit(violations) };
  } finally {
    await nc.close();
  }
}
