/**
 * The list of our processes: each one's name, entry point and ports. `npm run dev`, the
 * `start:<name>` scripts in package.json, docker-compose.yml and the production image all start
 * processes from this list (test/unit/process-list.test.ts checks that they agree).
 */
export interface ProcessSpec {
  /** Short name: `npm run start:<name>`, the compose service, the prefix of its dev log lines. */
  name: string;
  /** Source entry point; every entry file is named `<something>.main.ts`. */
  entry: string;
  /** Port of its HTTP API, with the variable that sets it (absent for processes without one). */
  httpPort?: { env: 'API_PORT' | 'INVENTORY_PORT' | 'PAYMENT_PORT'; default: number };
  /** Port of /metrics and /healthz for processes without an HTTP API (METRICS_PORT). */
  metricsPort?: number;
  /** The worker: port of the Temporal SDK's Prometheus /metrics (TEMPORAL_METRICS_PORT). */
  temporalMetricsPort?: number;
  role: string;
}

export const PROCESSES = [
  { name: 'inventory', entry: 'services/inventory/inventory.main.ts', httpPort: { env: 'INVENTORY_PORT', default: 3001 }, role: 'stand-in inventory service: products, stock, reservations' },
  { name: 'payment', entry: 'services/payment/payment.main.ts', httpPort: { env: 'PAYMENT_PORT', default: 3002 }, role: 'stand-in payment service: authorize, capture, void, refund' },
  { name: 'worker', entry: 'workers/temporal-worker.main.ts', metricsPort: 9467, temporalMetricsPort: 9468, role: 'Temporal worker: the order workflow and its activities' },
  { name: 'relay', entry: 'workers/outbox-relay.main.ts', metricsPort: 9464, role: 'publishes outbox rows to JetStream' },
  { name: 'email', entry: 'workers/email-consumer.main.ts', metricsPort: 9465, role: 'one email per customer-facing event' },
  { name: 'analytics', entry: 'workers/analytics-consumer.main.ts', metricsPort: 9466, role: 'analytics read model' },
  { name: 'api', entry: 'api/api.main.ts', httpPort: { env: 'API_PORT', default: 3000 }, role: 'REST API' },
] as const satisfies readonly ProcessSpec[];

export type ProcessName = (typeof PROCESSES)[number]['name'];

/** The compiled entry point `npm run build` writes, run with plain `node` in production. */
export function compiledEntry(spec: Pick<ProcessSpec, 'entry'>): string {
  return `dist/${spec.entry.replace(/\.ts$/, '.js')}`;
}

/** Where the process answers GET /healthz. */
export function healthPort(spec: ProcessSpec): number {
  return spec.httpPort?.default ?? spec.metricsPort!;
}
