import { WorkflowNotFoundError } from '@temporalio/client';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { ConfigError, parseDuration } from '../../common/config';
import { problem, validationProblem } from '../../common/http';
import { inspectOrder } from '../../common/inspection/inspect-order';
import type { InspectionSources } from '../../common/inspection/sources';
import { findStuckOrders } from '../../common/inspection/stuck';
import { requireScope } from '../auth';
import type { ApiDeps } from '../deps';
import { describeOrderWorkflow, orderNotFound } from '../order-owner';
import { orderIdParam } from '../schemas';

/**
 * Operators' view of one order and of the stuck ones, the JSON of `npm run ops -- inspect --json`
 * and `ops stuck --json` (common/inspection/): GET /operator/orders/{orderId}/inspection and
 * GET /operator/stuck?olderThan=10m. Operator scope only.
 */

export const DURATION_PATTERN = '^[0-9]{1,9}(ms|s|m|h|d)$';
export const MAX_STUCK_LIMIT = 200;
/** 1-200 as the document states it, so every limit the document allows is one the route takes. */
export const STUCK_LIMIT_PATTERN = '^(?:[1-9][0-9]?|1[0-9]{2}|200)$';

export const stuckQuery = z.strictObject({
  olderThan: z.string().regex(new RegExp(DURATION_PATTERN), 'must be a duration such as 30s, 10m, 2h or 1d').default('10m'),
  limit: z.string().regex(new RegExp(STUCK_LIMIT_PATTERN), `must be a whole number from 1 to ${MAX_STUCK_LIMIT}`).transform(Number).default(50),
});

const unavailable = (why: string) => problem(503, 'inspection-unavailable', 'Inspection unavailable', why);

/**
 * The sources, if this process can inspect: it has them, and the settings they read on first use
 * (the peers' tokens) are set. Otherwise 503 naming what is missing; the rest of the API is unaffected.
 */
function usableSources(sources: InspectionSources | undefined): InspectionSources {
  if (!sources) throw unavailable('This API process has no inspection sources configured; use `npm run ops -- inspect`.');
  try {
    sources.peers();
  } catch (err) {
    if (err instanceof ConfigError) throw unavailable(`The inspection reads the payment and inventory services with this process's tokens: ${err.message}`);
    throw err;
  }
  return sources;
}

/** Known: a row, or a workflow. Checked first so an unknown id is a cheap 404. */
async function isKnownOrder(sources: InspectionSources, orderId: string): Promise<boolean> {
  if (await sources.db.order.findUnique({ where: { id: orderId }, select: { id: true } })) return true;
  try {
    await describeOrderWorkflow(sources.temporal, orderId, sources.settings.TEMPORAL_CALL_TIMEOUT);
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

export function operatorInspectionRouter(deps: ApiDeps): Router {
  const router = Router();
  const sourcesOf = () => usableSources(deps.inspection);

  router.get('/operator/orders/:orderId/inspection', requireScope('operator'), async (req: Request, res) => {
    const id = orderIdParam.safeParse(req.params.orderId);
    if (!id.success) throw validationProblem(id.error, 'order id');
    const sources = sourcesOf();
    if (!(await isKnownOrder(sources, id.data))) throw orderNotFound(id.data);
    res.json(await inspectOrder(sources, id.data));
  });

  router.get('/operator/stuck', requireScope('operator'), async (req, res) => {
    const q = stuckQuery.safeParse(req.query);
    if (!q.success) throw validationProblem(q.error, 'query');
    const stuck = await findStuckOrders(sourcesOf(), { olderThanMs: parseDuration(q.data.olderThan), limit: q.data.limit });
    res.json({ olderThan: q.data.olderThan, stuck });
  });
  return router;
}
