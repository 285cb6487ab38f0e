import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Response } from 'express';
import { problem } from '../common/http';
import type { Logger } from '../common/logger';
import { LEGACY_CLIENT_ID, orderWorkflowId } from '../common/order/workflow-contract';

/**
 * Tenancy: an order belongs to the API client that placed it (orders.client_id). Another client
 * gets 404 for it, as for an order that does not exist, so an id tells it nothing.
 */

/** In every order's workflow memo: the client that placed it, whose order it is before its row is written. */
export const CLIENT_MEMO = 'clientId';

/** The order's workflow as Temporal describes it, asked within `timeoutMs` (WorkflowNotFoundError when there is none). */
export function describeOrderWorkflow(temporal: Client, orderId: string, timeoutMs: number) {
  return temporal.withDeadline(Date.now() + timeoutMs, () => temporal.workflow.getHandle(orderWorkflowId(orderId)).describe());
}

export const orderNotFound = (orderId: string) => problem(404, 'order-not-found', 'Order not found', `No order with id ${orderId}.`);

/**
 * The client an order belongs to: its row says so, and before the row is written the workflow's
 * memo. Undefined when there is no such order. 503 when that cannot be learnt: an order is never
 * shown or cancelled without knowing it is the caller's.
 */
export function orderOwnerLookup(temporal: Client, logger: Logger, temporalCallTimeoutMs: number) {
  return async (orderId: string, row: { clientId: string } | null, res: Response): Promise<string | undefined> => {
    if (row) return row.clientId;
    try {
      const { memo } = await describeOrderWorkflow(temporal, orderId, temporalCallTimeoutMs);
      const owner = memo?.[CLIENT_MEMO];
      return typeof owner === 'string' ? owner : LEGACY_CLIENT_ID;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      logger.error({ err, orderId }, 'could not learn whose order this is');
      res.set('retry-after', '2');
      throw problem(503, 'order-lookup-unavailable', 'Order lookup unavailable', 'The order could not be looked up just now; retry shortly.');
    }
  };
}
