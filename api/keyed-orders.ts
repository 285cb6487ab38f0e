import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Response } from 'express';
import type { Logger } from '../common/logger';
import type { Queryable } from '../common/pg';
import type { KeyedRequestInfo } from './idempotency';
import { keyReused, outcomeUnknown, type AcceptedOrder } from './order-answers';
import { describeOrderWorkflow } from './order-owner';
import { readOrderRow } from './order-row';
import type { CreateOrderBody } from './schemas';

/** Kept in a keyed order's workflow memo: what its start was asked with, to answer a retry that finds it started. */
export const KEYED_START_MEMO = 'apiRequest';
export interface KeyedStartMemo {
  requestHash: string;
  totalCents: number;
  currency: string;
  correlationId: string;
}

/** Does a recorded order say what this request asks for? (The card token is in no column: see placedBefore.) */
function sameOrder(row: { customerId: string; customerEmail: string; currency: string; lines: { sku: string; quantity: number }[] }, order: CreateOrderBody): boolean {
  const lines = (items: { sku: string; quantity: number }[]) => items.map((l) => `${l.sku}\n${l.quantity}`).sort().join('\n\n');
  return row.customerId === order.customerId && row.customerEmail === order.customerEmail && row.currency === order.currency
    && lines(row.lines) === lines(order.items);
}

/*
 * Why a keyed POST asks Temporal (DescribeWorkflowExecution) before its start only when the key
 * was held before (KeyedRequestInfo.heldBefore), and why that loses nothing:
 * - The order's workflow id comes from (client, key). Its start uses reuse policy
 *   REJECT_DUPLICATE and conflict policy FAIL (orderWorkflowStartOptions): while Temporal knows
 *   a workflow of that id, running or closed, the start fails with "already started", and that
 *   goes to placedBefore (with Temporal asked) anyway. So skipping the question never starts a
 *   second order; the question up front only lets a retry answer without pricing again.
 * - An order recorded long ago (its workflow forgotten by Temporal, its key row expired) is
 *   found by the database check, which every keyed POST still makes first.
 * - What runs between the skipped question and the start must not harm an order placed before:
 *   pricing reads only; storing the secrets is insert-only (common/order-vault.ts), so a request
 *   with another body never changes the email or card of the order placed under its key. It
 *   finds their row different and is refused with 422 before it starts anything.
 * - A key never held before (the claim inserted its row) cannot have an earlier attempt: the
 *   key's rows are deleted only when expired (at least IDEMPOTENCY_KEY_TTL after that attempt's
 *   claim; its order is recorded by then, or the start or the vault finds it as above). A
 *   released key keeps its row (release ends the lease, api/idempotency.ts), so a retry after a
 *   5xx, a lost answer or a crash takes it over, and asks Temporal first, as before.
 */

/** The lookup of a keyed order an earlier attempt placed (POST /orders, api/routes/orders.ts). */
export function keyedOrderLookup(pool: Queryable, temporal: Client, logger: Logger, temporalCallTimeoutMs: number) {
  /**
   * A keyed order that an earlier attempt of the same request already placed: the database knows
   * it once recorded (also after Temporal forgot its finished workflow), Temporal from its start
   * (asked only when `askTemporal`: see above). Undefined when there is none; 422 when the
   * key's order is another request's.
   */
  return async function placedBefore(orderId: string, keyedReq: KeyedRequestInfo, order: CreateOrderBody, res: Response, askTemporal: boolean): Promise<AcceptedOrder | undefined> {
    const recorded = await readOrderRow(pool, orderId);
    if (recorded) {
      // The id comes from (client, key), so another client's row here can only be an order of before the
      // authenticated client ids (X-Client-Id): never answer with it.
      if (recorded.clientId !== keyedReq.clientId || !sameOrder(recorded, order)) throw keyReused();
      // The row keeps the placing request's fingerprint, which covers the card token no column holds.
      // A row recorded before it: a key held before may have been taken over by another card; ask.
      if (recorded.requestHash !== null) {
        if (recorded.requestHash !== keyedReq.requestHash) throw keyReused();
      } else if (askTemporal) {
        const first = await keyedStartOf(orderId, res);
        if (typeof first === 'object' && first.requestHash !== keyedReq.requestHash) throw keyReused();
      }
      return { orderId, totalCents: recorded.totalCents, currency: recorded.currency, correlationId: recorded.correlationId };
    }
    if (!askTemporal) return undefined;
    const first = await keyedStartOf(orderId, res);
    if (first === 'no-workflow') return undefined;
    if (first === 'no-memo' || first.requestHash !== keyedReq.requestHash) throw keyReused();
    return { orderId, totalCents: first.totalCents, currency: first.currency, correlationId: first.correlationId };
  };

  /** What the order's keyed start was asked with (its workflow's memo), or why that is not known. */
  async function keyedStartOf(orderId: string, res: Response): Promise<KeyedStartMemo | 'no-workflow' | 'no-memo'> {
    try {
      const { memo } = await describeOrderWorkflow(temporal, orderId, temporalCallTimeoutMs);
      return (memo?.[KEYED_START_MEMO] as KeyedStartMemo | undefined) ?? 'no-memo';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return 'no-workflow';
      logger.error({ err, orderId }, 'could not learn whether this keyed order was started before');
      throw outcomeUnknown(res, 'start', orderId, true);
    }
  }
}
