import { ApplicationFailure } from '@temporalio/common';
import type { InventoryClient } from '../common/clients/inventory-client';
import { BusinessFailure, STOCK_ALREADY_COMMITTED_FAILURE } from '../common/failures';
import { idempotencyKeys } from './idempotency-keys';
import { businessOutcome, callPeer } from './peer-errors';

export interface StockRequest {
  orderId: string;
  lines: { sku: string; quantity: number }[];
}

export function createInventoryActivities(inventory: InventoryClient) {
  return {
    async reserveStock({ orderId, lines }: StockRequest): Promise<void> {
      const outcome = await callPeer(() => inventory.reserve(orderId, lines, idempotencyKeys.reserveStock(orderId)));
      if (outcome.kind === 'insufficient-stock') {
        throw businessOutcome(BusinessFailure.OutOfStock, `Not enough stock for SKU ${outcome.sku}`,
          { sku: outcome.sku, requested: outcome.requested, available: outcome.available });
      }
      if (outcome.kind === 'unknown-sku') {
        throw businessOutcome(BusinessFailure.UnknownSku, `Unknown SKU ${outcome.sku}`, { sku: outcome.sku });
      }
      // A release already ran for this order (its saga was undone while this reserve was on its way).
      if (outcome.kind === 'order-released') {
        throw businessOutcome(BusinessFailure.ReservationReleased, `Order ${orderId} was already released; nothing was reserved`, { orderId });
      }
    },

    /**
     * Undo of reserveStock. Safe when nothing was reserved (the reserve may never have happened):
     * the inventory then fences the order, so a reserve still on its way is refused. Stock that
     * was already committed cannot come back: that fails for good (StockAlreadyCommitted).
     */
    async releaseStock({ orderId }: { orderId: string }): Promise<'released' | 'nothing-reserved'> {
      const outcome = await callPeer(() => inventory.release(orderId, idempotencyKeys.releaseStock(orderId)));
      if (outcome === 'already-committed') {
        throw ApplicationFailure.create({
          type: STOCK_ALREADY_COMMITTED_FAILURE, nonRetryable: true, details: [{ orderId }],
          message: `The stock of order ${orderId} was already committed; it cannot be released (the order is confirmed)`,
        });
      }
      return outcome;
    },

    async commitStock({ orderId }: { orderId: string }): Promise<void> {
      const outcome = await callPeer(() => inventory.commit(orderId, idempotencyKeys.commitStock(orderId)));
      if (outcome === 'order-released') {
        // Not BENIGN: a saga that gets here has released the stock it now wants to commit.
        throw ApplicationFailure.create({
          type: BusinessFailure.ReservationReleased, nonRetryable: true, details: [{ orderId }],
          message: `The stock of order ${orderId} was released; it cannot be committed`,
        });
      }
    },
  };
}
