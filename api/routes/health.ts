import type { Connection } from '@temporalio/client';
import { Router } from 'express';
import type { ApiDeps } from '../deps';

export function healthRouter({ db, temporal }: ApiDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  /** Ready when the database and Temporal answer: a load balancer should route here only then. */
  router.get('/readyz', async (_req, res) => {
    const checks = await Promise.all([
      db.$queryRaw`SELECT 1`.then(() => ['database', 'ok'] as const, (e: Error) => ['database', e.message] as const),
      (temporal.connection as Connection).healthService.check({}).then(() => ['temporal', 'ok'] as const, (e: Error) => ['temporal', e.message] as const),
    ]);
    const ready = checks.every(([, status]) => status === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', checks: Object.fromEntries(checks) });
  });
  return router;
}
