import { Router } from 'express';
import type { Pool } from 'pg';
import { problem } from '../../common/http';

/**
 * Liveness answers without touching anything; readiness proves the database answers.
 * `databaseUrlSetting` names the setting to check when it does not, e.g. INVENTORY_DATABASE_URL.
 */
export function healthRoutes(pool: Pool, serviceName: string, databaseUrlSetting: string): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
  router.get('/readyz', async (_req, res) => {
    try {
      await pool.query('SELECT 1');
    } catch {
      throw problem(503, 'not-ready', 'Not ready', `The ${serviceName} database does not answer; check ${databaseUrlSetting} and that Postgres is up.`);
    }
    res.json({ status: 'ready' });
  });
  return router;
}
