import type { RequestHandler } from 'express';
import { Counter, Histogram } from 'prom-client';
import { createProcessRegistry } from '../common/metrics-server';

export function createApiMetrics() {
  // No process label on the API's metrics: GET /metrics has always served them unlabelled.
  const registry = createProcessRegistry();
  const requests = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const ordersStarted = new Counter({ name: 'orders_started_total', help: 'Orders accepted and started', registers: [registry] });
  const middleware: RequestHandler = (req, res, next) => {
    const end = requests.startTimer();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      end({ method: req.method, route, status: String(res.statusCode) });
      if (req.method === 'POST' && route === '/orders' && res.statusCode === 202) ordersStarted.inc();
    });
    next();
  };
  return { registry, middleware };
}
