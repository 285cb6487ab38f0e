import express, { type Express } from 'express';
import type { Pool } from 'pg';
import { notFoundHandler, problemErrorHandler } from '../../common/http';
import type { Logger } from '../../common/logger';
import { FaultInjector } from '../shared/faults';
import { healthRoutes } from './health';
import { productRoutes } from './products';
import { reservationRoutes } from './reservations';

export interface InventoryAppOptions {
  pool: Pool;
  logger: Logger;
  /** Pass one to switch faults on from the outside; otherwise the app gets its own, reachable over /test/faults. */
  faults?: FaultInjector;
}

/** The inventory HTTP API (products, reservations). A pure factory: the caller decides where it listens. */
export function createInventoryApp({ pool, logger, faults = new FaultInjector() }: InventoryAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '100kb' }));
  app.use(healthRoutes(pool));
  faults.mount(app);
  app.use(faults.middleware());
  app.use(productRoutes(pool));
  app.use(reservationRoutes(pool));
  app.use(notFoundHandler);
  app.use(problemErrorHandler(logger));
  return app;
}
