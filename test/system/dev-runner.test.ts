import { mkdtempSync, rmSync } from 'node:fs';
import { removeDataDir } from '../../scripts/infra/postgres';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeDevPortOffset } from '../../scripts/dev/ports';
import { brokenTemporalCli, describeProcesses, leftoversAfter, PROBE_VARIABLE, runScript, type ScriptRun } from '../harness/child-runs';
import { processesWithEnv } from '../../scripts/infra/run-marker';
import { readFileSync } from 'node:fs';
import { DEV_PEER_TOKENS } from '../../common/config';

/**
 * `npm run dev` as a user runs it: state in a private (0700) directory, every process of ours,
 * the embedded infrastructure. Ports are shifted (DEV_PORT_OFFSET) so a developer's own
 * `npm run dev` can keep running.
 */
jest.setTimeout(300_000);

const EXTERNAL = ['DATABASE_URL', 'NATS_URL', 'TEMPORAL_ADDRESS', 'SMTP_URL', 'PAYMENT_WEBHOOK_URL', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_ZIPKIN_ENDPOINT', 'DEV_TRACE_VIEWER', 'DEV_DATA_DIR', 'DEV_PORT_OFFSET'];
const runs: ScriptRun[] = [];
const dirs: string[] = [];

function privateDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix)); // mode 0700, like a home directory
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const run of runs) run.kill();
  for (const dir of dirs) {
    removeDataDir(join(dir, 'postgres')); // as root the data lives outside the directory
    rmSync(dir, { recursive: true, force: true });
  }
});

function workerPid(run: ScriptRun): number | undefined {
  const pids = processesWithEnv(PROBE_VARIABLE, run.probe).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('temporal-worker.main.ts'));
  expect(pids.length).toBeLessThanOrEqual(1);
  return pids[0];
}

it('brings the system up from a private directory, confirms an order, restarts a crashed process, and leaves nothing running after SIGTERM', async () => {
  const dataDir = privateDir('orders-dev-');
  const offset = await freeDevPortOffset();
  const run = runScript(['scripts/dev'], { DEV_DATA_DIR: dataDir, DEV_PORT_OFFSET: String(offset) }, EXTERNAL.filter((v) => !v.startsWith('DEV_')));
  runs.push(run);
  await run.waitForOutput(/Order orchestrator is up/, 240_000);

  const api = `http://127.0.0.1:${3000 + offset}`;
  // The dev keys are printed, and kept in the data directory for the next start.
  const shopKey = /shop \(client dev-shop\)\s+(ook_\S+)/.exec(run.output())?.[1];
  const operatorKey = /operator \(client dev-operator\)\s+(ook_\S+)/.exec(run.output())?.[1];
  expect(shopKey).toBeDefined();
  expect(operatorKey).toBeDefined();
  expect(JSON.parse(readFileSync(join(dataDir, 'dev-api-keys.json'), 'utf8'))).toEqual({ shop: shopKey, operator: operatorKey });
  const auth = { authorization: `Bearer ${shopKey}` };
  expect((await fetch(`${api}/orders`)).status).toBe(401);
  expect((await fetch(`${api}/analytics/summary`, { headers: auth })).status).toBe(403);
  expect((await fetch(`${api}/analytics/summary`, { headers: { authorization: `Bearer ${operatorKey}` } })).status).toBe(200);
  const correlationId = `dev-runner-${offset}`;
  const placed = await fetch(`${api}/orders`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId, ...auth },
    body: JSON.stringify({ customerId: 'c-dev', customerEmail: 'dev@shop.example', currency: 'EUR', items: [{ sku: 'MUG-001', quantity: 1 }], payment: { token: 'tok_visa' } }),
  });
  expect(placed.status).toBe(202);
  const { orderId } = await placed.json() as { orderId: string };
  let status = '';
  for (let i = 0; i < 120 && status !== 'CONFIRMED'; i++) {
    await new Promise((r) => setTimeout(r, 500));
    status = ((await (await fetch(`${api}/orders/${orderId}`, { headers: auth })).json()) as { status: string }).status;
  }
  expect(status).toBe('CONFIRMED');

  // The order is one trace in the trace viewer (Zipkin, its real UI), from the API's request to the email sent;
  // a log line names its trace.
  const zipkin = `http://127.0.0.1:${9411 + offset}`;
  expect(run.output()).toContain(`Traces            ${zipkin}/zipkin/`);
  expect(await (await fetch(`${zipkin}/zipkin/`)).text()).toMatch(/<title>Zipkin<\/title>/);
  const emailLine = new RegExp(`\\[email\\] INFO email sent \\{"correlationId":"${correlationId}".*?"traceId":"([0-9a-f]{32})"`);
  let traceId: string | undefined;
  for (let i = 0; i < 60 && !traceId; i++) {
    traceId = emailLine.exec(run.output())?.[1];
    if (!traceId) await new Promise((r) => setTimeout(r, 500));
  }
  expect(traceId).toBeDefined();
  let spans: { name: string; localEndpoint?: { serviceName?: string } }[] = [];
  for (let i = 0; i < 60 && !spans.some((sp) => sp.name === 'smtp send'); i++) {
    await new Promise((r) => setTimeout(r, 500));
    const res = await fetch(`${zipkin}/api/v2/trace/${traceId}`);
    spans = res.ok ? await res.json() as typeof spans : [];
  }
  const services = new Set(spans.map((sp) => sp.localEndpoint?.serviceName));
  expect([...services].sort()).toEqual(['analytics-consumer', 'api', 'email-consumer', 'inventory', 'outbox-relay', 'payment', 'temporal-worker']);
  expect(spans.map((sp) => sp.name)).toEqual(expect.arrayContaining(['post /orders', 'runworkflow:orderworkflow', 'publish orderconfirmed', 'email orderconfirmed', 'smtp send']));

  // The peers want a caller token; dev runs them in test mode, and says so.
  expect(run.output()).toMatch(/inventory and payment run in test mode/);
  const inventory = `http://127.0.0.1:${3001 + offset}`;
  expect((await fetch(`${inventory}/products/MUG-001`)).status).toBe(401);
  const tools = { authorization: `Bearer ${DEV_PEER_TOKENS.inventory.tools}` };
  expect((await fetch(`${inventory}/products/MUG-001`, { headers: tools })).status).toBe(200);
  expect((await fetch(`${inventory}/test/faults`, { headers: tools })).status).toBe(200);
  // The Web UI decodes payloads through the API's codec server, which lets the UI's origin call it.
  const ui = `http://127.0.0.1:${8233 + offset}`;
  const uiSettings = (await (await fetch(`${ui}/api/v1/settings`)).json()) as { Codec: { Endpoint: string } };
  expect(uiSettings.Codec.Endpoint).toBe(`${api}/codec`);
  const preflight = await fetch(`${api}/codec/decode`, { method: 'OPTIONS', headers: { origin: ui, 'access-control-request-method': 'POST' } });
  expect([preflight.status, preflight.headers.get('access-control-allow-origin')]).toEqual([204, ui]);

  const crashed = workerPid(run); // the worker process itself, as an OOM kill or a kill -9 would
  expect(crashed).toBeDefined();
  process.kill(crashed!, 'SIGKILL');
  await run.waitForOutput(/worker exited unexpectedly \(SIGKILL\); restarting in 1\.0s/, 30_000);
  await run.waitForOutput(/temporal worker running[\s\S]*temporal worker running/, 90_000);
  expect(workerPid(run)).not.toBe(crashed);

  run.child.kill('SIGTERM');
  expect(await run.exited).toEqual({ code: 0, signal: null });
  const left = await leftoversAfter(run);
  expect(describeProcesses(left)).toBe('');
  expect(run.output()).toContain('[dev] stopped');
});

it('stops what it had started when the start fails half way', async () => {
  const dataDir = privateDir('orders-dev-fail-');
  const offset = await freeDevPortOffset();
  const run = runScript(['scripts/dev'], {
    DEV_DATA_DIR: dataDir, DEV_PORT_OFFSET: String(offset), TEMPORAL_CLI_BIN: brokenTemporalCli(dataDir),
  }, EXTERNAL.filter((v) => !v.startsWith('DEV_')));
  runs.push(run);
  const exit = await run.exited;
  expect(exit.code).toBe(1);
  expect(run.output()).toMatch(/NATS JetStream on/); // Postgres and NATS were up before Temporal failed
  expect(run.output()).toMatch(/could not start: Temporal dev server exited \(code 3\) before it was ready/);
  expect(describeProcesses(await leftoversAfter(run))).toBe('');
});
