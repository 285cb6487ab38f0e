import express from 'express';
import { notFoundHandler, problem, problemErrorHandler } from '../common/http';
import type { ApiDeps } from './deps';
import { createApiMetrics } from './metrics';
import { openApiDocument } from './openapi';
import { analyticsRouter } from './routes/analytics';
import { codecRouter } from './routes/codec';
import { healthRouter } from './routes/health';
import { ordersRouter } from './routes/orders';
import { paymentWebhooksRouter } from './routes/payment-webhooks';

/** Fails closed until API keys guard the codec server: replaced by [authenticate(deps), requireScope('operator')]. */
const codecAuthenticationNotWired: express.RequestHandler = (_req, _res, next) => {
  next(problem(401, 'unauthenticated', 'Authentication required', 'The codec server needs an operator API key.'));
};

export function createApiApp(deps: ApiDeps): express.Express {
  const app = express();
  const metrics = createApiMetrics();
  app.disable('x-powered-by');
  app.use(metrics.middleware);
  app.use(paymentWebhooksRouter(deps)); // before the JSON parser: signatures are over the raw bytes
  // Before the JSON parser (own size limit) and before any authentication (CORS preflights carry none).
  app.use('/codec', codecRouter(deps, { authorize: [codecAuthenticationNotWired] }));
  app.use(express.json({ limit: '100kb', type: ['application/json', 'application/*+json'] }));
  app.use(healthRouter(deps));
  app.use(ordersRouter(deps));
  app.use(analyticsRouter(deps));
  const openApi = openApiDocument();
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.use(notFoundHandler);
  app.use(problemErrorHandler(deps.logger));
  return app;
}
