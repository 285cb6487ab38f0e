import type { Express } from 'express';
import { INVENTORY_CALLER_PERMISSIONS } from '../shared/caller-permissions';
import type { Pool } from 'pg';
import type { Logger } from '../../common/logger';
import { FaultInjector } from '../shared/faults';
import { createServiceApp } from '../shared/service-app';
import { inventoryDocument } from './openapi';
import { productRoutes } from './products';
import { reservationRoutes } from './reservations';

export interface InventoryAppOptions {
  pool: Pool;
  logger: Logger;
  /** Pass one to switch faults on from the outside; otherwise the app gets its own, reachable over /test/faults in test mode. */
  faults?: FaultInjector;
  callers: ReadonlyMap<string, string>;
  testMode?: boolean;
}

/** The inventory HTTP API (products, reservations). A pure factory: the caller decides where it listens. */
export function createInventoryApp({ pool, logger, faults = new FaultInjector(), callers, testMode = false }: InventoryAppOptions): Express {
  return createServiceApp({
    serviceName: 'inventory', databaseUrlSetting: 'INVENTORY_DATABASE_URL', pool, logger, faults, callers, permissions: INVENTORY_CALLER_PERMISSIONS, testMode,
    routes: [productRoutes(pool), reservationRoutes(pool)],
    document: inventoryDocument(testMode),
  });
}
