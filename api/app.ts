import express from 'express';
import { notFoundHandler, problemErrorHandler } from '../common/http';
import { authenticate, requireScope } from './auth';
import { methodNotAllowedHandler } from '../common/method-not-allowed';
import { requestContext } from '../common/tracing-http';
import { accessLog, correlationIdOf } from './access-log';
import type { ApiDeps } from './deps';
import { createApiMetrics } from './metrics';
import { openApiDocument } from './openapi';
import { postRateLimit } from './rate-limit';
import { sessionFromCookie } from './browser-session';
import { analyticsRouter } from './routes/analytics';
import { apiDocsRouter } from './routes/api-docs';
import { codecRouter } from './routes/codec';
import { livenessRouter, readinessRouter } from './routes/health';
import { OPERATOR_SESSION, operatorPageRouter, operatorSignInRouter, signInRedirect } from './routes/operator-page';
import { operatorInspectionRouter } from './routes/operator-inspection';
import { ordersRouter } from './routes/orders';
import { paymentWebhooksRouter } from './routes/payment-webhooks';
import { securityHeaders } from './security-headers';

export function createApiApp(deps: ApiDeps): express.Express {
  const app = express();
  const metrics = createApiMetrics();
  const openApi = openApiDocument(deps.codec.namespace);
  app.disable('x-powered-by');
  app.use(accessLog(deps.logger)); // first: every answer has its correlation id and its log line
  // The request's span and correlation id, current while it is handled (again after the JSON parser).
  const context = requestContext({ correlationIdOf: (_req, res) => correlationIdOf(res) });
  app.use(context);
  app.use(securityHeaders());
  app.use(metrics.middleware);
  app.use(paymentWebhooksRouter(deps)); // before the JSON parser: signatures are over the raw bytes
  // Before any authentication (CORS preflights carry none) and before the JSON parser (own size limit);
  // its POSTs need an operator key (a bearer header, or the session cookie /codec/session sets).
  app.use('/codec', codecRouter(deps, { authorize: [authenticate(deps), requireScope('operator')] }));
  app.use(livenessRouter());
  app.use(operatorSignInRouter(deps)); // the sign-in form holds no data; it sets the browser session the pages below accept
  // Paths open without a key (liveness) answer an undeclared method with 405 here; the others only to a caller with a key.
  app.use(methodNotAllowedHandler(openPaths(openApi.paths)));
  // Everything below needs an API key (api/auth.ts); nothing is parsed for a caller without one.
  // The browser pages' session cookie stands for a key (api/browser-session.ts).
  app.use(OPERATOR_SESSION.paths, sessionFromCookie(deps, OPERATOR_SESSION), signInRedirect);
  app.use(authenticate(deps));
  app.use(express.json({ limit: '100kb', type: ['application/json', 'application/*+json'] }));
  app.use(context);
  app.use(postRateLimit(deps.pool, deps.rateLimit, deps.logger));
  app.use(readinessRouter(deps));
  app.use(ordersRouter(deps));
  app.use(analyticsRouter(deps));
  app.use(operatorPageRouter(deps));
  app.use(apiDocsRouter());
  app.use(operatorInspectionRouter(deps));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.get('/metrics', requireScope('operator'), async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.use(methodNotAllowedHandler(openApi.paths));
  app.use(notFoundHandler);
  app.use(problemErrorHandler(deps.logger));
  return app;
}

/** The paths of the document whose every operation is open (`security: []`): liveness. */
function openPaths(paths: Record<string, object>): Record<string, object> {
  return Object.fromEntries(Object.entries(paths).filter(([, operations]) =>
    Object.values(operations).every((op) => Array.isArray((op as { security?: unknown[] }).security) && (op as { security: unknown[] }).security.length === 0)));
}
