import { PROCESSES, type ProcessSpec } from '../../common/processes';

/**
 * The ports `npm run dev` uses: the defaults of common/processes.ts and common/config.ts, all
 * shifted by one offset (DEV_PORT_OFFSET) so a second system (a test of the dev runner) can run
 * beside the first.
 */
export function devPorts(offset: number) {
  if (!Number.isInteger(offset) || offset < 0 || offset > 50_000) {
    throw new Error(`DEV_PORT_OFFSET must be a whole number from 0 to 50000, got ${offset}`);
  }
  const at = (port: number) => port + offset;
  const health = (spec: ProcessSpec) => at(spec.httpPort?.default ?? spec.metricsPort!);
  const httpPort = (name: string) => health(PROCESSES.find((p) => p.name === name)!);
  const http = { api: httpPort('api'), inventory: httpPort('inventory'), payment: httpPort('payment') };
  return {
    postgres: at(54329), nats: at(4222), temporal: at(7233), temporalUi: at(8233), smtp: at(2525),
    http,
    health,
    /** What our processes need to find each other on these ports. */
    processEnv: {
      API_PORT: String(http.api), INVENTORY_PORT: String(http.inventory), PAYMENT_PORT: String(http.payment),
      INVENTORY_URL: `http://127.0.0.1:${http.inventory}`, PAYMENT_URL: `http://127.0.0.1:${http.payment}`,
      PAYMENT_WEBHOOK_URL: process.env.PAYMENT_WEBHOOK_URL ?? `http://127.0.0.1:${http.api}/webhooks/payments`,
    },
  };
}
