import { Router } from 'express';
import type { Pool } from 'pg';
import { requireIdempotencyKey, runIdempotent } from '../shared/idempotency';
import { sendIdempotentResult } from '../shared/idempotent-response';
import { commitReservation, createReservation, findReservation, releaseReservation, reservationNotFound } from './reservation-store';
import { INVENTORY_SCHEMA } from './schema';
import { orderIdSchema, reservationBodySchema } from './validation';

export function reservationRoutes(pool: Pool): Router {
  const router = Router();

  // Key and body are checked before anything runs, so bad input writes nothing, not even the key.
  router.post('/reservations', async (req, res) => {
    const key = requireIdempotencyKey(req.get('Idempotency-Key'));
    const body = reservationBodySchema.parse(req.body ?? {});
    const result = await runIdempotent(pool, INVENTORY_SCHEMA, key, 'create-reservation', body,
      (tx) => createReservation(tx, body, req.originalUrl));
    sendIdempotentResult(res, result);
  });

  router.get('/reservations/:orderId', async (req, res) => {
    const orderId = orderIdSchema.parse(req.params.orderId);
    const reservation = await findReservation(pool, orderId);
    if (!reservation) throw reservationNotFound(orderId);
    res.json(reservation);
  });

  router.post('/reservations/:orderId/release', async (req, res) => {
    const key = requireIdempotencyKey(req.get('Idempotency-Key'));
    const orderId = orderIdSchema.parse(req.params.orderId);
    const result = await runIdempotent(pool, INVENTORY_SCHEMA, key, 'release-reservation', { orderId },
      (tx) => releaseReservation(tx, orderId, req.originalUrl));
    sendIdempotentResult(res, result);
  });

  router.post('/reservations/:orderId/commit', async (req, res) => {
    const key = requireIdempotencyKey(req.get('Idempotency-Key'));
    const orderId = orderIdSchema.parse(req.params.orderId);
    const result = await runIdempotent(pool, INVENTORY_SCHEMA, key, 'commit-reservation', { orderId },
      (tx) => commitReservation(tx, orderId, req.originalUrl));
    sendIdempotentResult(res, result);
  });

  return router;
}
