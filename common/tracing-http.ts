import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { correlationIdFromHeaders } from './correlation';
import { withCorrelation } from './correlation-context';
import { extractTraceContext, tracer } from './tracing';

/**
 * The request context of our HTTP servers (API and peer services): a SERVER span (its parent from
 * the caller's `traceparent`) and the correlation id (common/correlation-context.ts), both current
 * while the request is handled.
 *
 * Mount it first, and again after each body parser: a body parser resumes the request from the
 * socket's events, outside the context it was called in, so the second mount enters the same span
 * and correlation again (it makes nothing new).
 */
export function requestContext(options: { correlationIdOf: (req: Request, res: Response) => string | undefined }): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const locals = res.locals as { requestSpan?: Span | null; requestCorrelationId?: string };
    if (locals.requestSpan === undefined) {
      locals.requestSpan = UNTRACED_PATHS.has(req.path) ? null : startServerSpan(req, res);
      locals.requestCorrelationId = options.correlationIdOf(req, res);
    }
    const span = locals.requestSpan;
    withCorrelation({ correlationId: locals.requestCorrelationId }, () => (span ? context.with(trace.setSpan(context.active(), span), next) : next()));
  };
}

/** Probes and scrapes (health checks every few seconds, Prometheus): no span, they would bury the orders' traces. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** A peer service's correlation id: what the caller sent (X-Correlation-Id, else traceparent's trace id). */
export function correlationIdOfCall(req: Request): string | undefined {
  return correlationIdFromHeaders(req.headers);
}

function startServerSpan(req: Request, res: Response): Span {
  const method = req.method;
  // The path only: a query can hold personal data (?customerId=); our paths hold only our ids.
  const path = (req.originalUrl ?? req.url).split('?', 1)[0]!;
  const span = tracer().startSpan(method, {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': method, 'url.path': path.slice(0, 256) },
  }, extractTraceContext(req.headers));
  res.once('close', () => {
    const route = routeOf(req);
    if (route) {
      span.updateName(`${method} ${route}`);
      span.setAttribute('http.route', route);
    }
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  return span;
}

/** The route template that answered (e.g. /orders/:orderId), when one did. */
function routeOf(req: Request): string | undefined {
  const route = (req as { route?: { path?: unknown } }).route?.path;
  return typeof route === 'string' ? `${req.baseUrl ?? ''}${route}` : undefined;
}
