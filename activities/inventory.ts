import type { InventoryClient } from '../common/clients/inventory-client';
import { BusinessFailure } from '../common/failures';
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
    },

    /** Undo of reserveStock. Safe when nothing was reserved (the reserve may never have happened). */
    async releaseStock({ orderId }: { orderId: string }): Promise<'released' | 'nothing-reserved' | 'already-committed'> {
      return callPeer(() => inventory.release(orderId, idempotencyKeys.releaseStock(orderId)));
    },

    async commitStock({ orderId }: { orderId: string }): Promise<void> {
      await callPeer(() => inventory.commit(orderId, idempotencyKeys.commitStock(orderId)));
    },
  };
}
