import { join } from 'node:path';
import { PROCESSES } from '../../common/processes';
import { SAMPLE_CATALOG } from '../../services/inventory/sample-catalog';
import { beginRun, killRunProcesses, REPO_ROOT } from '../infra';
import { DEV_OPERATOR_CLIENT, DEV_SHOP_CLIENT, devApiKeysFile } from './dev-api-keys';
import { startDevSystem, type DevSystem } from './system';

/**
 * `npm run dev`: the whole system on this machine, no Docker, no accounts (scripts/dev/system.ts).
 * State is kept in .data/ (DEV_DATA_DIR; delete it for a clean slate). DEV_PORT_OFFSET shifts
 * every port. Ctrl-C or SIGTERM stops everything, and so does a failed start.
 */
const say = (msg: string) => console.log(`[dev] ${msg}`);
let system: DevSystem | undefined;
const startup = new AbortController();

async function main() {
  const dataDir = process.env.DEV_DATA_DIR ?? join(REPO_ROOT, '.data');
  system = await startDevSystem({
    dataDir,
    portOffset: Number(process.env.DEV_PORT_OFFSET ?? 0),
    say,
    onMail: (mail, file) => say(`mail to ${mail.to.join(', ')}: "${mail.subject}" (saved as ${file})`),
    signal: startup.signal,
    // DEV_TRACE_VIEWER=off: no Zipkin (it needs Java); OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_ZIPKIN_ENDPOINT: your own collector.
    traceViewer: process.env.DEV_TRACE_VIEWER !== 'off',
  });
  const { ports, env, temporalUi, apiKeys, traceViewerUrl } = system;
  const api = `http://127.0.0.1:${ports.http.api}`;
  console.log(`
  Order orchestrator is up.
    API               ${api}   (POST /orders, GET /orders/{id}, /analytics/summary, /metrics, /openapi.json)
    Temporal Web UI   ${temporalUi}   (payloads are encrypted; to see them decoded, sign in at ${api}/codec/session
                      with the operator key, then in the UI's Codec Server settings enter ${api}/codec as this
                      browser's endpoint and turn on "Include cross-origin credentials")
    Operator page     ${api}/operator   (sign in with the operator key; API reference ${api}/docs, any key)
    Inventory         http://127.0.0.1:${ports.http.inventory}   (GET /products; -H 'authorization: Bearer ${env.INVENTORY_TOKEN}')
    Payment           http://127.0.0.1:${ports.http.payment}   (GET /payments?orderId=...; -H 'authorization: Bearer ${env.PAYMENT_TOKEN}')
    Traces            ${traceViewerUrl ? `${traceViewerUrl}   (Zipkin: one trace per order, POST /orders to the email sent; paste the traceId of a log line, or search by serviceName)` : env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_ZIPKIN_ENDPOINT ? `sent to ${env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_ZIPKIN_ENDPOINT}` : 'off (DEV_TRACE_VIEWER=off)'}
    Postgres          ${env.DATABASE_URL}
    NATS              ${env.NATS_URL}   (one user per process, dev passwords dev-nats-<user>; see README "NATS users")
    SMTP              ${env.SMTP_URL}
    Metrics           ${PROCESSES.filter((p) => 'metricsPort' in p).map((p) => `${p.name} :${ports.health(p)}`).join(', ')}, Temporal SDK (worker) :${ports.temporalMetrics}
    Operator tools    npm run ops -- help      (dead letters: dlq list|show|replay|drop; analytics rebuild; nats setup; apikey create|revoke|list; customer erase)

  API keys (every call but /healthz sends "Authorization: Bearer <key>"; kept in ${devApiKeysFile(dataDir)}):
    shop (client ${DEV_SHOP_CLIENT})          ${apiKeys.shop}
    operator (client ${DEV_OPERATOR_CLIENT})  ${apiKeys.operator}

  Catalog: ${SAMPLE_CATALOG.map((p) => p.sku).join(', ')}.  Try:
    curl -si -X POST ${api}/orders -H 'content-type: application/json' -H 'authorization: Bearer ${apiKeys.shop}' \\
      -d '{"customerId":"c-1","customerEmail":"jane@shop.example","currency":"EUR","items":[{"sku":"MUG-001","quantity":2}],"payment":{"token":"tok_visa"}}'
  Ctrl-C stops everything.
`);
}

let shuttingDown = false;
async function shutdown(code: number) {
  if (shuttingDown) return;
  shuttingDown = true;
  say('stopping...');
  startup.abort(); // a start-up still in progress stops what it started and rejects
  await started.catch(() => undefined);
  await system?.stop();
  const orphans = killRunProcesses();
  if (orphans.length) say(`killed ${orphans.length} process(es) left behind: ${orphans.join(', ')}`);
  say('stopped');
  process.exit(code);
}

beginRun();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0));
const started = main();
started.catch((err: unknown) => {
  if (shuttingDown) return;
  console.error(`[dev] could not start: ${(err as Error).message}`);
  void shutdown(1);
});
