import express, { type Express, type Router } from 'express';
import type { Pool } from 'pg';
import { notFoundHandler, problemErrorHandler } from '../../common/http';
import type { Logger } from '../../common/logger';
import type { FaultInjector } from './faults';
import { healthRoutes } from './health-routes';

export interface ServiceAppOptions {
  /** e.g. 'inventory'; used in the readiness problem. */
  serviceName: string;
  /** The setting that points at the service's database, named when readiness fails. */
  databaseUrlSetting: string;
  pool: Pool;
  logger: Logger;
  faults: FaultInjector;
  /** The service's own API, mounted after health and fault injection, in this order. */
  routes: Router[];
}

/**
 * The express setup every peer service shares: JSON bodies, /healthz and /readyz, /test/faults,
 * then the service's routes, and problem+json for everything that goes wrong.
 */
export function createServiceApp({ serviceName, databaseUrlSetting, pool, logger, faults, routes }: ServiceAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '100kb' }));
  app.use(healthRoutes(pool, serviceName, databaseUrlSetting));
  faults.mount(app);
  app.use(faults.middleware());
  for (const router of routes) app.use(router);
  app.use(notFoundHandler);
  app.use(problemErrorHandler(logger));
  return app;
}
