import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { closeServer } from './http';

/**
 * A Prometheus registry with the process's default metrics (CPU, memory, event loop lag), each
 * labelled `process="<processName>"`. Without a name the metrics carry no such label (the API's).
 */
export function createProcessRegistry(processName?: string): Registry {
  const registry = new Registry();
  if (processName !== undefined) registry.setDefaultLabels({ process: processName });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Shares one read among the gauges collected in the same scrape (prom-client collects them
 * concurrently), so several gauges fed by one query or API call cost one round trip.
 */
export function oncePerScrape<T>(read: () => Promise<T>, ttlMs = 500): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > ttlMs) last = { at: Date.now(), value: read() };
    return last.value;
  };
}

/**
 * Serves GET /metrics, and GET /healthz for liveness checks, for a process without an HTTP API
 * of its own (worker, relay, consumers). Started only when METRICS_PORT is set.
 */
export async function startMetricsServer(registry: Registry, port: number, host: string): Promise<{ url: string; stop(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}\n');
      return;
    }
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics and GET /healthz here\n');
      return;
    }
    registry.metrics().then((body) => {
      res.writeHead(200, { 'content-type': registry.contentType }).end(body);
    }, (err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`could not collect metrics: ${(err as Error).message}\n`);
    });
  });
  server.listen(port, host);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${(server.address() as AddressInfo).port}/metrics`;
  return { url, stop: () => closeServer(server) };
}
