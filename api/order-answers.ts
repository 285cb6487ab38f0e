import type { Response } from 'express';
import { problem } from '../common/http';
import { keyReusedProblem } from '../common/idempotency-key';

/** What a 202 to POST /orders says; the same for every answer to one keyed request. */
export interface AcceptedOrder {
  orderId: string;
  totalCents: number;
  currency: string;
  correlationId: string;
}

export function sendAccepted(res: Response, a: AcceptedOrder): void {
  res.status(202).location(`/orders/${a.orderId}`).set('x-correlation-id', a.correlationId)
    .json({ orderId: a.orderId, status: 'PENDING', totalCents: a.totalCents, currency: a.currency });
}

export const KEY_REUSED_DETAIL = 'This key was first used with another request; use a new key for a new operation.';
export const keyReused = () => keyReusedProblem(KEY_REUSED_DETAIL);

/** The start (or a cancel) may have happened: say so, and how to find out safely. */
export function outcomeUnknown(res: Response, what: 'start' | 'cancel', orderId: string, keyed: boolean) {
  res.set('retry-after', '2');
  const happened = what === 'start'
    ? 'The workflow engine did not confirm the start of this order in time, so whether it was placed is not known.'
    : 'The workflow engine did not confirm this cancel in time, so whether it reached the order is not known.';
  const next = what === 'start'
    ? keyed
      ? 'Retry with the same Idempotency-Key: that is safe, and answers with this order if it was placed.'
      : `Look the order up at /orders/${orderId} before placing it again; with an Idempotency-Key a retry is always safe.`
    : keyed
      ? `Retry with the same Idempotency-Key (safe), and follow the order at /orders/${orderId}.`
      : `Retry (cancelling twice is harmless, and with the same Idempotency-Key the retry joins the first), and follow the order at /orders/${orderId}.`;
  return problem(503, what === 'start' ? 'order-outcome-unknown' : 'cancel-outcome-unknown',
    what === 'start' ? 'Order outcome unknown' : 'Cancel outcome unknown', `${happened} ${next}`, { orderId });
}
