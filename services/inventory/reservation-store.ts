import type { Pool, PoolClient } from 'pg';
import { problem } from '../../common/http';
import type { StoredResponse } from '../shared/idempotency';
import { refusal } from '../shared/idempotent-response';
import type { ReservationBody } from './validation';

export type ReservationStatus = 'RESERVED' | 'RELEASED' | 'COMMITTED';

export interface Reservation {
  orderId: string;
  status: ReservationStatus;
  lines: { sku: string; quantity: number }[];
  createdAt: string;
  updatedAt: string;
}

interface ReservationRow {
  order_id: string;
  status: ReservationStatus;
  created_at: Date;
  updated_at: Date;
  lines: { sku: string; quantity: number }[];
}

/** The reservation with its lines in sku order, in one statement (its lines as a JSON array). */
export async function findReservation(db: Pool | PoolClient, orderId: string): Promise<Reservation | undefined> {
  const { rows } = await db.query<ReservationRow>({
    name: 'inventory-reservation',
    text: `SELECT r.order_id, r.status, r.created_at, r.updated_at,
                  coalesce((SELECT json_agg(json_build_object('sku', l.sku, 'quantity', l.quantity) ORDER BY l.sku)
                              FROM inventory.reservation_lines l WHERE l.order_id = r.order_id), '[]'::json) AS lines
             FROM inventory.reservations r WHERE r.order_id = $1`,
    values: [orderId],
  });
  const row = rows[0];
  if (!row) return undefined;
  return {
    orderId: row.order_id,
    status: row.status,
    lines: row.lines,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function reservationNotFound(orderId: string) {
  return problem(404, 'reservation-not-found', 'Reservation not found', `There is no reservation for order ${orderId}.`, { orderId });
}

/**
 * A release that found nothing to release leaves this record behind: a RELEASED reservation
 * without lines (a real reservation always has at least one). It fences the order: a reserve
 * that was still on its way (its caller timed out, the service or its database was slow) and
 * lands after the release is refused instead of holding the stock for good.
 */
function isTombstone(reservation: Reservation): boolean {
  return reservation.status === 'RELEASED' && reservation.lines.length === 0;
}

function reservationReleased(orderId: string, instance: string, detail: string): StoredResponse {
  return refusal(problem(409, 'reservation-released', 'Reservation already released', detail, { orderId, reservationStatus: 'RELEASED' }), instance);
}

/**
 * Serializes every change to one order's reservation, whatever Idempotency-Key it comes with,
 * so that two "reserve" calls for one order cannot both pass the "already exists?" check.
 */
async function lockOrder(tx: PoolClient, orderId: string): Promise<void> {
  await tx.query({ name: 'inventory-lock-order', text: 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', values: [`inventory:reservation:${orderId}`] });
}

/** Row locks are always taken in sku order, so concurrent reservations cannot deadlock. */
async function lockProducts(tx: PoolClient, skus: string[]): Promise<Map<string, { stock: number; reserved: number }>> {
  const { rows } = await tx.query<{ sku: string; stock: number; reserved: number }>({
    name: 'inventory-lock-products', text: 'SELECT sku, stock, reserved FROM inventory.products WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE', values: [skus],
  });
  return new Map(rows.map((r) => [r.sku, r]));
}

async function lockProductsOfReservation(tx: PoolClient, orderId: string): Promise<void> {
  await tx.query({
    name: 'inventory-lock-products-of-reservation',
    text: `SELECT sku FROM inventory.products
            WHERE sku IN (SELECT sku FROM inventory.reservation_lines WHERE order_id = $1) ORDER BY sku FOR UPDATE`,
    values: [orderId],
  });
}

/** One line per sku, quantities of repeated skus added up, in sku order (the order rows are locked in). */
function mergeLines(lines: ReservationBody['lines']): ReservationBody['lines'] {
  const bySku = new Map<string, number>();
  for (const line of lines) bySku.set(line.sku, (bySku.get(line.sku) ?? 0) + line.quantity);
  return [...bySku].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([sku, quantity]) => ({ sku, quantity }));
}

/** All or nothing: either every line is reserved, or the answer names the first line that cannot be. */
export async function createReservation(tx: PoolClient, body: ReservationBody, instance: string): Promise<StoredResponse> {
  const { orderId } = body;
  await lockOrder(tx, orderId);
  const existing = await findReservation(tx, orderId);
  if (existing?.status === 'RELEASED') {
    return reservationReleased(orderId, instance,
      `Order ${orderId} was already released (its order was undone); nothing was reserved. Reserve again with a new order.`);
  }
  if (existing) {
    return refusal(problem(409, 'reservation-exists', 'Reservation already exists',
      `Order ${orderId} already has a reservation (status ${existing.status}); an order holds at most one. Read it with GET /reservations/${orderId}.`,
      { orderId, reservationStatus: existing.status }), instance);
  }

  const lines = mergeLines(body.lines);
  const products = await lockProducts(tx, lines.map((l) => l.sku));
  for (const line of lines) {
    const product = products.get(line.sku);
    if (!product) {
      return refusal(problem(422, 'unknown-sku', 'Unknown sku',
        `No product with sku "${line.sku}"; nothing was reserved.`, { sku: line.sku }), instance);
    }
    const available = product.stock - product.reserved;
    if (available < line.quantity) {
      return refusal(problem(409, 'insufficient-stock', 'Insufficient stock',
        `Only ${available} of "${line.sku}" available, ${line.quantity} requested; nothing was reserved.`,
        { sku: line.sku, requested: line.quantity, available }), instance);
    }
  }

  const skus = lines.map((l) => l.sku);
  const quantities = lines.map((l) => l.quantity);
  await tx.query({
    name: 'inventory-reserve-products',
    text: `UPDATE inventory.products p SET reserved = p.reserved + l.quantity, updated_at = now()
             FROM unnest($1::text[], $2::int[]) AS l(sku, quantity) WHERE p.sku = l.sku`,
    values: [skus, quantities],
  });
  await tx.query({ name: 'inventory-insert-reserved', text: "INSERT INTO inventory.reservations (order_id, status) VALUES ($1, 'RESERVED')", values: [orderId] });
  await tx.query({
    name: 'inventory-insert-lines',
    text: `INSERT INTO inventory.reservation_lines (order_id, sku, quantity)
           SELECT $1, l.sku, l.quantity FROM unnest($2::text[], $3::int[]) AS l(sku, quantity)`,
    values: [orderId, skus, quantities],
  });
  return { status: 201, body: await findReservation(tx, orderId) };
}

/**
 * RESERVED → RELEASED gives the units back; releasing twice is a no-op. Releasing an order that
 * has no reservation answers 404 and leaves a tombstone (see isTombstone), so that the order can
 * no longer be reserved or committed.
 */
export async function releaseReservation(tx: PoolClient, orderId: string, instance: string): Promise<StoredResponse> {
  await lockOrder(tx, orderId);
  const reservation = await findReservation(tx, orderId);
  if (!reservation) {
    await tx.query("INSERT INTO inventory.reservations (order_id, status) VALUES ($1, 'RELEASED')", [orderId]);
    return refusal(problem(404, 'reservation-not-found', 'Reservation not found',
      `There is no reservation for order ${orderId}; nothing was released. A reserve for this order that arrives later will be refused.`, { orderId }), instance);
  }
  if (isTombstone(reservation)) return refusal(reservationNotFound(orderId), instance);
  if (reservation.status === 'RELEASED') return { status: 200, body: reservation };
  if (reservation.status === 'COMMITTED') {
    return refusal(problem(409, 'reservation-committed', 'Reservation already committed',
      `The reservation of order ${orderId} was committed (the stock has left); it cannot be released.`, { orderId, reservationStatus: reservation.status }), instance);
  }
  await lockProductsOfReservation(tx, orderId);
  await tx.query(
    `UPDATE inventory.products p SET reserved = p.reserved - l.quantity, updated_at = now()
       FROM inventory.reservation_lines l WHERE l.order_id = $1 AND p.sku = l.sku`, [orderId]);
  return { status: 200, body: await setStatus(tx, orderId, 'RELEASED') };
}

/** RESERVED → COMMITTED takes the units out of stock for good; committing twice is a no-op. */
export async function commitReservation(tx: PoolClient, orderId: string, instance: string): Promise<StoredResponse> {
  await lockOrder(tx, orderId);
  const reservation = await findReservation(tx, orderId);
  if (!reservation) return refusal(reservationNotFound(orderId), instance);
  if (reservation.status === 'COMMITTED') return { status: 200, body: reservation };
  if (reservation.status === 'RELEASED') {
    return reservationReleased(orderId, instance, isTombstone(reservation)
      ? `Order ${orderId} was released before anything was reserved for it; there is nothing to commit. Reserve again with a new order.`
      : `The reservation of order ${orderId} was released; its units may be sold to others, so it cannot be committed. Reserve again with a new order.`);
  }
  await lockProductsOfReservation(tx, orderId);
  await tx.query({
    name: 'inventory-commit-products',
    text: `UPDATE inventory.products p SET stock = p.stock - l.quantity, reserved = p.reserved - l.quantity, updated_at = now()
             FROM inventory.reservation_lines l WHERE l.order_id = $1 AND p.sku = l.sku`,
    values: [orderId],
  });
  return { status: 200, body: await setStatus(tx, orderId, 'COMMITTED') };
}

async function setStatus(tx: PoolClient, orderId: string, status: ReservationStatus): Promise<Reservation | undefined> {
  await tx.query({ name: 'inventory-set-status', text: 'UPDATE inventory.reservations SET status = $2, updated_at = now() WHERE order_id = $1', values: [orderId, status] });
  return findReservation(tx, orderId);
}
