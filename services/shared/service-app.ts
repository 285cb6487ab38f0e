import express, { type Express, type Router } from 'express';
import type { Pool } from 'pg';
import { notFoundHandler, problemErrorHandler } from '../../common/http';
import type { Logger } from '../../common/logger';
import { correlationIdOfCall, requestContext } from '../../common/tracing-http';
import { callerAuthentication } from './caller-auth';
import { callerPermissions, type CallerPermissions } from './caller-permissions';
import type { FaultInjector } from './faults';
import { healthRoutes } from './health-routes';
import { methodNotAllowed, type OpenApiPaths } from './openapi';

export interface ServiceAppOptions {
  /** e.g. 'inventory'; used in the readiness problem. */
  serviceName: string;
  /** The setting that points at the service's database, named when readiness fails. */
  databaseUrlSetting: string;
  pool: Pool;
  logger: Logger;
  faults: FaultInjector;
  /** Who may call, by name: each caller's token (INVENTORY_CALLER_TOKENS, PAYMENT_CALLER_TOKENS). */
  callers: ReadonlyMap<string, string>;
  /** What each caller may call (services/shared/caller-permissions.ts). */
  permissions: CallerPermissions;
  /** Serve /test/* (faults, and the service's testRoutes); without it they are unknown paths. */
  testMode: boolean;
  /** The service's own API, mounted after authentication (and fault injection), in this order. */
  routes: Router[];
  /** The service's /test/* routes besides /test/faults, mounted in test mode only. */
  testRoutes?: Router[];
  /** The OpenAPI document of exactly these routes (for this testMode), served at /openapi.json. */
  document: { paths: OpenApiPaths };
}

/**
 * The express setup every peer service shares: /healthz, /readyz and /openapi.json open; every
 * other call needs a caller token; in test mode /test/faults and the service's test routes; then
 * the service's routes, and problem+json for everything that goes wrong. A method the document
 * does not declare for a path is 405 before any route runs.
 */
export function createServiceApp(options: ServiceAppOptions): Express {
  const { serviceName, databaseUrlSetting, pool, logger, faults, callers, permissions, testMode, routes, testRoutes = [], document } = options;
  const app = express();
  app.disable('x-powered-by');
  // The caller's span and correlation id (headers of every peer call), current while a call is handled (again after the JSON parser).
  const context = requestContext({ correlationIdOf: (req) => correlationIdOfCall(req) });
  app.use(context);
  app.use(healthRoutes(pool, serviceName, databaseUrlSetting));
  app.get('/openapi.json', (_req, res) => { res.json(document); });
  app.use(callerAuthentication(serviceName, callers, logger));
  app.use(methodNotAllowed(document.paths));
  app.use(callerPermissions(serviceName, callers.keys(), permissions, logger));
  app.use(express.json({ limit: '100kb' }));
  app.use(context);
  if (testMode) {
    faults.mount(app);
    for (const router of testRoutes) app.use(router);
    app.use(faults.middleware());
  }
  for (const router of routes) app.use(router);
  app.use(notFoundHandler);
  app.use(problemErrorHandler(logger));
  return app;
}
