import { createServer } from 'node:net';
import { healthPort, PROCESSES, type ProcessSpec } from '../../common/processes';

/**
 * The ports `npm run dev` uses: the defaults of common/processes.ts and common/config.ts, all
 * shifted by one offset (DEV_PORT_OFFSET) so a second system (a test of the dev runner) can run
 * beside the first.
 */
const BASE_PORTS = { postgres: 54329, nats: 4222, temporal: 7233, temporalUi: 8233, smtp: 2525, traceViewer: 9411 };
const WORKER = PROCESSES.find((p) => p.name === 'worker')!;
const MAX_OFFSET = 65_535 - Math.max(...Object.values(BASE_PORTS), ...PROCESSES.map(healthPort), WORKER.temporalMetricsPort);

export function devPorts(offset: number) {
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_OFFSET) {
    throw new Error(`DEV_PORT_OFFSET must be a whole number from 0 to ${MAX_OFFSET}, got ${offset}`);
  }
  const at = (port: number) => port + offset;
  const health = (spec: ProcessSpec) => at(spec.httpPort?.default ?? spec.metricsPort!);
  const httpPort = (name: string) => health(PROCESSES.find((p) => p.name === name)!);
  const http = { api: httpPort('api'), inventory: httpPort('inventory'), payment: httpPort('payment') };
  return {
    postgres: at(BASE_PORTS.postgres), nats: at(BASE_PORTS.nats), temporal: at(BASE_PORTS.temporal), temporalUi: at(BASE_PORTS.temporalUi), smtp: at(BASE_PORTS.smtp),
    /** The trace viewer (Zipkin): its UI and the span API our processes send to. */
    traceViewer: at(BASE_PORTS.traceViewer),
    /** The worker's Temporal SDK metrics (TEMPORAL_METRICS_PORT). */
    temporalMetrics: at(WORKER.temporalMetricsPort),
    http,
    health,
    /** What our processes need to find each other on these ports. */
    processEnv: {
      API_PORT: String(http.api), INVENTORY_PORT: String(http.inventory), PAYMENT_PORT: String(http.payment),
      INVENTORY_URL: `http://127.0.0.1:${http.inventory}`, PAYMENT_URL: `http://127.0.0.1:${http.payment}`,
      PAYMENT_WEBHOOK_URL: process.env.PAYMENT_WEBHOOK_URL ?? `http://127.0.0.1:${http.api}/webhooks/payments`,
      TEMPORAL_UI_ORIGIN: process.env.TEMPORAL_UI_ORIGIN ?? `http://127.0.0.1:${at(BASE_PORTS.temporalUi)},http://localhost:${at(BASE_PORTS.temporalUi)}`,
    },
    /** The API's codec server, for the dev Web UI (--ui-codec-endpoint). */
    codecEndpoint: `http://127.0.0.1:${http.api}/codec`,
  };
}

/** Every port the dev system listens on at offset 0. */
export const DEV_DEFAULT_PORTS: number[] = [...Object.values(BASE_PORTS), ...PROCESSES.map(healthPort), WORKER.temporalMetricsPort];

/** An offset under which every dev port is free right now (for a second system beside `npm run dev`). */
export async function freeDevPortOffset(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const offset = 1_000 + Math.floor(Math.random() * (MAX_OFFSET - 1_000));
    const free = await Promise.all(DEV_DEFAULT_PORTS.map((p) => portIsFree(p + offset)));
    if (free.every(Boolean)) return offset;
  }
  throw new Error('found no port offset with every dev port free; stop some servers and try again');
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
