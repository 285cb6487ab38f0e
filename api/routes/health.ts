import type { Connection } from '@temporalio/client';
import { Router } from 'express';
import type { ApiDeps } from '../deps';

/** Liveness: the one route open without a key (container health checks, load balancers). */
export function livenessRouter(): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  return router;
}

/**
 * Readiness, behind an API key like everything but /healthz (a probe sends any valid key): ready
 * when the database and Temporal answer. Each check says "ok" or "unavailable"; why is in the log,
 * not in the answer (no addresses or driver messages).
 */
export function readinessRouter({ db, temporal, logger, temporalCallTimeoutMs }: ApiDeps): Router {
  const router = Router();
  router.get('/readyz', async (_req, res) => {
    const check = (name: 'database' | 'temporal', probe: () => Promise<unknown>) => probe().then(
      () => [name, 'ok'] as const,
      (err: unknown) => { logger.warn({ err, check: name }, 'readiness check failed'); return [name, 'unavailable'] as const; });
    const checks = await Promise.all([
      check('database', () => db.$queryRaw`SELECT 1`),
      check('temporal', () => temporal.withDeadline(Date.now() + temporalCallTimeoutMs, () => (temporal.connection as Connection).healthService.check({}))),
    ]);
    const ready = checks.every(([, status]) => status === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', checks: Object.fromEntries(checks) });
  });
  return router;
}
