import express from 'express';
import { notFoundHandler, problemErrorHandler } from '../common/http';
import { methodNotAllowedHandler } from '../common/method-not-allowed';
import { accessLog } from './access-log';
import type { ApiDeps } from './deps';
import { createApiMetrics } from './metrics';
import { openApiDocument } from './openapi';
import { analyticsRouter } from './routes/analytics';
import { healthRouter } from './routes/health';
import { ordersRouter } from './routes/orders';
import { paymentWebhooksRouter } from './routes/payment-webhooks';
import { securityHeaders } from './security-headers';

export function createApiApp(deps: ApiDeps): express.Express {
  const app = express();
  const metrics = createApiMetrics();
  const openApi = openApiDocument();
  app.disable('x-powered-by');
  app.use(accessLog(deps.logger)); // first: every answer has its correlation id and its log line
  app.use(securityHeaders());
  app.use(metrics.middleware);
  app.use(paymentWebhooksRouter(deps)); // before the JSON parser: signatures are over the raw bytes
  app.use(express.json({ limit: '100kb', type: ['application/json', 'application/*+json'] }));
  app.use(healthRouter(deps));
  app.use(ordersRouter(deps));
  app.use(analyticsRouter(deps));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.use(methodNotAllowedHandler(openApi.paths));
  app.use(notFoundHandler);
  app.use(problemErrorHandler(deps.logger));
  return app;
}
