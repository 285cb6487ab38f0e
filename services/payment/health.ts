import { Router } from 'express';
import type { Pool } from 'pg';
import { problem } from '../../common/http';

/** Liveness answers without touching anything; readiness proves the database answers. */
export function healthRoutes(pool: Pool): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
  router.get('/readyz', async (_req, res) => {
    try {
      await pool.query('SELECT 1');
    } catch {
      throw problem(503, 'not-ready', 'Not ready', 'The payment database does not answer; check PAYMENT_DATABASE_URL and that Postgres is up.');
    }
    res.json({ status: 'ready' });
  });
  return router;
}
