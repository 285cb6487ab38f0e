import type { InventoryClient } from '../common/clients/inventory-client';
import type { PaymentClient } from '../common/clients/payment-client';
import type { Pool } from 'pg';
import { createInventoryActivities } from './inventory';
import { createOrderStateActivities } from './order-state';
import { createPaymentActivities } from './payment';
import { createRecordedStepActivities } from './recorded-steps';

export interface ActivityDeps {
  /** The order database (node-postgres: the activities' writes are the worker's hottest path). */
  pool: Pool;
  inventory: InventoryClient;
  payment: PaymentClient;
}

/** All activities of the order saga, built from injected dependencies (tests pass their own). */
export function createActivities(deps: ActivityDeps) {
  const steps = {
    ...createOrderStateActivities(deps.pool),
    ...createInventoryActivities(deps.inventory),
    ...createPaymentActivities(deps.payment, deps.pool),
  };
  return { ...steps, ...createRecordedStepActivities(steps) };
}

export type OrderActivities = ReturnType<typeof createActivities>;
