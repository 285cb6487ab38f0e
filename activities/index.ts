import type { InventoryClient } from '../common/clients/inventory-client';
import type { PaymentClient } from '../common/clients/payment-client';
import type { Db } from '../common/db';
import { createInventoryActivities } from './inventory';
import { createOrderStateActivities } from './order-state';
import { createPaymentActivities } from './payment';

export interface ActivityDeps {
  db: Db;
  inventory: InventoryClient;
  payment: PaymentClient;
}

/** All activities of the order saga, built from injected dependencies (tests pass their own). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createOrderStateActivities(deps.db),
    ...createInventoryActivities(deps.inventory),
    ...createPaymentActivities(deps.payment, deps.db),
  };
}

export type OrderActivities = ReturnType<typeof createActivities>;
