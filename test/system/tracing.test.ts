import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { orderView } from '../../api/openapi-bodies';
import { removeDataDir } from '../../scripts/infra/postgres';
import { freeDevPortOffset } from '../../scripts/dev/ports';
import { startDevSystem, type DevSystem } from '../../scripts/dev/system';
import { startOtlpReceiver, type ReceivedSpan } from '../harness/otlp-receiver';
import { waitFor } from '../harness/system';
import { cleanUp } from '../harness/clean-up';

/**
 * Follow one order everywhere: the whole system as `npm run dev` starts it (every process its own
 * node process, real Postgres, NATS, Temporal), its spans sent over OTLP/HTTP to a collector of
 * this test's own. An order placed with an X-Correlation-Id has that id in the log lines of the
 * API, the worker, the relay, both consumers and both peers, in GET /orders/{id}; its spans form
 * ONE trace from the HTTP request to the email consumer's handling; no span carries personal data.
 * The worker's Temporal SDK metrics are served for Prometheus.
 */
jest.setTimeout(300_000);

const EXTERNAL = ['DATABASE_URL', 'NATS_URL', 'TEMPORAL_ADDRESS', 'SMTP_URL', 'PAYMENT_WEBHOOK_URL', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME'];
const saved = Object.fromEntries(EXTERNAL.map((name) => [name, process.env[name]]));
let dir: string;
let system: DevSystem | undefined;
let receiver: Awaited<ReturnType<typeof startOtlpReceiver>> | undefined;

beforeAll(() => {
  for (const name of EXTERNAL) delete process.env[name]; // the system starts its own
  dir = mkdtempSync(join(tmpdir(), 'orders-tracing-'));
});
afterAll(() => cleanUp(
  () => system?.stop(),
  () => receiver?.stop(),
  () => removeDataDir(join(dir, 'data', 'postgres')),
  () => rmSync(dir, { recursive: true, force: true }),
  () => { for (const [name, value] of Object.entries(saved)) if (value !== undefined) process.env[name] = value; },
));

const LOGGED_BY = { api: 'api', worker: 'worker', relay: 'relay', email: 'email', analytics: 'analytics', inventory: 'inventory', payment: 'payment' };

function logLines(name: string): Record<string, unknown>[] {
  const file = join(dir, `${name}.log`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').flatMap((line) => {
    try { return [JSON.parse(line) as Record<string, unknown>]; } catch { return []; }
  });
}

it('carries one correlation id and one trace from the HTTP request to the email sent', async () => {
  receiver = await startOtlpReceiver();
  system = await startDevSystem({
    dataDir: join(dir, 'data'), portOffset: await freeDevPortOffset(), say: () => undefined, logDir: dir,
    processEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
  });
  const api = `http://127.0.0.1:${system.ports.http.api}`;
  const auth = { authorization: `Bearer ${system.apiKeys.shop}` };
  const correlationId = `trace-test:${randomUUID()}`;
  const email = `tracing-${randomUUID()}@shop.example`;

  const placed = await fetch(`${api}/orders`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId, ...auth },
    body: JSON.stringify({ customerId: 'c-trace', customerEmail: email, currency: 'EUR', items: [{ sku: 'MUG-001', quantity: 1 }], payment: { token: 'tok_visa' } }),
  });
  expect(placed.status).toBe(202);
  expect(placed.headers.get('x-correlation-id')).toBe(correlationId);
  const { orderId } = await placed.json() as { orderId: string };

  // GET /orders/{id} names the correlation id of the request that placed it, as the document says.
  const view = await waitFor('the order to be confirmed', async () => {
    const body = await (await fetch(`${api}/orders/${orderId}`, { headers: auth })).json() as { status: string };
    return body.status === 'CONFIRMED' ? body : undefined;
  }, 60_000, 300);
  expect(orderView.parse(view).correlationId).toBe(correlationId);

  // Every process logged about this order with its correlation id.
  const aboutOrder = (name: string, msg: string) => logLines(name).filter((l) => l.msg === msg && l.correlationId === correlationId);
  await waitFor('the email and analytics consumers to log the order', async () =>
    aboutOrder(LOGGED_BY.email, 'email sent').length > 0 && aboutOrder(LOGGED_BY.analytics, 'event handled').length > 0, 30_000, 200);
  expect(aboutOrder(LOGGED_BY.api, 'request answered').map((l) => [l.method, l.path, l.status])).toContainEqual(['POST', '/orders', 202]);
  const activities = aboutOrder(LOGGED_BY.worker, 'activity completed');
  expect(activities.map((l) => l.activityType)).toEqual(expect.arrayContaining(['recordOrderPlaced', 'reserveStockRecorded', 'authorizePaymentRecorded', 'capturePaymentRecorded', 'commitStock']));
  expect(activities.every((l) => l.orderId === orderId && typeof l.traceId === 'string')).toBe(true);
  expect(aboutOrder(LOGGED_BY.relay, 'event published').map((l) => l.type)).toEqual(expect.arrayContaining(['OrderPlaced', 'OrderConfirmed']));
  expect(aboutOrder(LOGGED_BY.email, 'email sent').map((l) => l.orderId)).toContain(orderId);
  expect(aboutOrder(LOGGED_BY.inventory, 'inventory call').map((l) => l.path)).toContain('/reservations');
  expect(aboutOrder(LOGGED_BY.payment, 'payment call').map((l) => l.path)).toContain('/payments/authorize');
  // The email address and the card token are in no log line of any process.
  for (const name of Object.values(LOGGED_BY)) {
    expect(readFileSync(join(dir, `${name}.log`), 'utf8')).not.toContain(email);
  }

  // One trace, from POST /orders to the email consumer's SMTP send.
  const spans = receiver.spans;
  const root = await waitFor('the API request span', async () => spans.find((s) => s.service === 'api' && s.name === 'POST /orders'), 30_000, 200);
  const inTrace = () => spans.filter((s) => s.traceId === root.traceId);
  await waitFor('the email consumer\'s spans', async () => inTrace().some((s) => s.service === 'email-consumer' && s.name === 'smtp send'), 30_000, 200);
  await waitFor('the analytics consumer\'s spans', async () => inTrace().some((s) => s.service === 'analytics-consumer'), 30_000, 200);
  const trace = inTrace();
  const named = (service: string, name: string) => trace.filter((s) => s.service === service && s.name === name);
  const expected: [string, string][] = [
    ['api', 'POST /orders'], ['api', 'GET inventory'], ['api', 'StartWorkflow:orderWorkflow'],
    ['temporal-worker', 'RunWorkflow:orderWorkflow'], ['temporal-worker', 'StartActivity:reserveStockRecorded'], ['temporal-worker', 'RunActivity:reserveStockRecorded'],
    ['temporal-worker', 'POST inventory'], ['inventory', 'POST /reservations'],
    ['temporal-worker', 'RunActivity:authorizePaymentRecorded'], ['temporal-worker', 'POST payment'], ['payment', 'POST /payments/authorize'],
    ['temporal-worker', 'RunActivity:recordOrderTransition'],
    ['outbox-relay', 'publish OrderPlaced'], ['outbox-relay', 'publish OrderConfirmed'],
    ['email-consumer', 'email OrderConfirmed'], ['email-consumer', 'smtp send'], ['analytics-consumer', 'analytics OrderConfirmed'],
  ];
  expect(expected.filter(([service, name]) => named(service, name).length === 0)).toEqual([]);
  // Connected: one root (the request), every other span's parent is in the same trace.
  const ids = new Set(trace.map((s) => s.spanId));
  expect(trace.filter((s) => !s.parentSpanId).map((s) => s.name)).toEqual(['POST /orders']);
  expect(trace.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId)).map((s) => `${s.service} ${s.name}`)).toEqual([]);
  // The email consumer's handling descends from the relay's publish, which descends from the request.
  const parentOf = (s: ReceivedSpan) => trace.find((p) => p.spanId === s.parentSpanId);
  const ancestry = (s: ReceivedSpan): string[] => { const p = parentOf(s); return p ? [`${p.service} ${p.name}`, ...ancestry(p)] : []; };
  const emailChain = ancestry(named('email-consumer', 'smtp send')[0]!);
  expect(emailChain[0]).toBe('email-consumer email OrderConfirmed');
  expect(emailChain).toEqual(expect.arrayContaining(['outbox-relay publish OrderConfirmed', 'temporal-worker RunWorkflow:orderWorkflow', 'api StartWorkflow:orderWorkflow', 'api POST /orders']));
  // No personal data in any exported span.
  for (const body of receiver.rawBodies) {
    expect(body).not.toContain(email);
    expect(body).not.toContain('tok_visa');
  }

  // The worker's Temporal SDK metrics, for Prometheus.
  const sdkMetrics = await (await fetch(`http://127.0.0.1:${system.ports.temporalMetrics}/metrics`)).text();
  expect(sdkMetrics).toMatch(/^temporal_workflow_completed_total\b/m);
  expect(sdkMetrics).toMatch(/^temporal_activity_execution_latency/m);
});
