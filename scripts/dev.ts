import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InventoryClient } from '../common/clients/inventory-client';
import { migrate } from '../prisma/migrate';
import { ensureTools, startNats, startPostgres, startTemporalDevServer, waitForPort, type StartedService } from './infra';
import { startSmtpSink } from './smtp-sink';

/**
 * `npm run dev`: the whole system on this machine, no Docker, no accounts.
 * Starts Postgres, NATS JetStream, the Temporal dev server (Web UI on 8233) and an SMTP sink
 * unless DATABASE_URL, NATS_URL, TEMPORAL_ADDRESS or SMTP_URL point at existing ones; applies
 * migrations; starts every process of ours as its own child process; seeds a small catalog.
 * State is kept in .data/ (delete it for a clean slate). Ctrl-C stops everything.
 */
const repo = join(__dirname, '..');
const dataDir = process.env.DEV_DATA_DIR ?? join(repo, '.data');
const infra: StartedService[] = [];
const children: { name: string; child: ChildProcess }[] = [];

/** Each process, with the port of its own /metrics where it has no HTTP API (METRICS_PORT). */
const PROCESSES: { name: string; entry: string; metricsPort?: number }[] = [
  { name: 'inventory', entry: 'services/inventory/main.ts' },
  { name: 'payment', entry: 'services/payment/main.ts' },
  { name: 'worker', entry: 'workers/temporal-worker.main.ts' },
  { name: 'relay', entry: 'workers/outbox-relay.main.ts', metricsPort: 9464 },
  { name: 'email', entry: 'workers/email-consumer.main.ts', metricsPort: 9465 },
  { name: 'analytics', entry: 'workers/analytics-consumer.main.ts', metricsPort: 9466 },
  { name: 'api', entry: 'api/main.ts' },
];

const CATALOG = [
  { sku: 'MUG-001', name: 'Coffee mug', priceCents: 1250, stock: 100 },
  { sku: 'TSHIRT-M', name: 'T-shirt, size M', priceCents: 2500, stock: 50 },
  { sku: 'POSTER-A2', name: 'Poster A2', priceCents: 1800, stock: 20 },
  { sku: 'LAMP-01', name: 'Desk lamp', priceCents: 4900, stock: 5 },
];

const say = (msg: string) => console.log(`[dev] ${msg}`);

/** Prints a child's pino JSON lines as `[name] LEVEL message {fields}`. */
function relayOutput(name: string, stream: NodeJS.ReadableStream) {
  let buffered = '';
  const levels: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        const { level, msg, time: _t, pid: _p, hostname: _h, name: _n, ...rest } = JSON.parse(line) as Record<string, unknown>;
        const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
        console.log(`[${name}] ${levels[level as number] ?? level} ${String(msg)}${extra}`);
      } catch {
        console.log(`[${name}] ${line}`);
      }
    }
  });
}

async function waitHealthy(url: string, what: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    const dead = children.find((c) => c.child.exitCode !== null);
    if (dead) throw new Error(`${dead.name} exited with code ${dead.child.exitCode}; see its output above`);
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${what} did not become healthy at ${url} within ${timeoutMs / 1000}s`);
}

async function main() {
  mkdirSync(dataDir, { recursive: true });
  chmodSync(dataDir, 0o777); // embedded Postgres runs as its own system user when we are root
  const env: Record<string, string> = {};

  const needed = [
    ...(process.env.TEMPORAL_ADDRESS ? [] : ['temporal' as const]),
    ...(process.env.NATS_URL ? [] : ['nats' as const]),
  ];
  if (needed.length) say(`getting local tools: ${needed.join(', ')} (built once, then cached)`);
  const tools = needed.length ? await ensureTools(needed) : {};

  if (process.env.DATABASE_URL) {
    env.DATABASE_URL = process.env.DATABASE_URL;
  } else {
    const pg = await startPostgres({ dir: join(dataDir, 'postgres'), port: 54329, persistent: true });
    infra.push(pg);
    await pg.ensureDatabase('orders');
    env.DATABASE_URL = pg.urlFor('orders');
    say(`Postgres (embedded) on ${env.DATABASE_URL}`);
  }
  if (process.env.NATS_URL) env.NATS_URL = process.env.NATS_URL;
  else {
    const nats = await startNats({ bin: tools.NATS_SERVER_BIN!, dir: join(dataDir, 'nats'), port: 4222, logFile: join(dataDir, 'nats.log') });
    infra.push(nats);
    env.NATS_URL = nats.url;
    say(`NATS JetStream on ${nats.url}`);
  }
  let temporalUi = 'your Temporal cluster\'s Web UI';
  if (process.env.TEMPORAL_ADDRESS) env.TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS;
  else {
    const temporal = await startTemporalDevServer({ bin: tools.TEMPORAL_CLI_BIN!, port: 7233, uiPort: 8233, dbFile: join(dataDir, 'temporal.db'), logFile: join(dataDir, 'temporal.log') });
    infra.push(temporal);
    env.TEMPORAL_ADDRESS = temporal.url;
    temporalUi = temporal.uiUrl!;
    say(`Temporal dev server on ${temporal.url}, Web UI ${temporalUi}`);
  }
  if (process.env.SMTP_URL) env.SMTP_URL = process.env.SMTP_URL;
  else {
    const mailDir = join(dataDir, 'mail');
    mkdirSync(mailDir, { recursive: true });
    const smtp = await startSmtpSink({
      port: 2525,
      onMail: (mail) => {
        const file = join(mailDir, `${Date.now()}-${(mail.messageId ?? 'message').replace(/[^A-Za-z0-9@.-]/g, '')}.eml`);
        writeFileSync(file, mail.raw);
        say(`mail to ${mail.to.join(', ')}: "${mail.subject}" (saved as ${file})`);
      },
    });
    infra.push({ name: 'smtp', url: smtp.url, stop: smtp.stop });
    env.SMTP_URL = smtp.url;
    say(`SMTP sink on ${smtp.url} (messages saved in ${mailDir})`);
  }

  const applied = await migrate(env.DATABASE_URL);
  say(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');

  // The payment provider tells the API when a customer passed 3-D Secure.
  env.PAYMENT_WEBHOOK_URL = process.env.PAYMENT_WEBHOOK_URL ?? 'http://127.0.0.1:3000/webhooks/payments';

  const tsx = join(repo, 'node_modules/.bin/tsx');
  for (const p of PROCESSES) {
    const metrics = p.metricsPort ? { METRICS_PORT: String(p.metricsPort) } : {};
    const child = spawn(tsx, [join(repo, p.entry)], { cwd: repo, env: { ...process.env, ...env, ...metrics }, stdio: ['ignore', 'pipe', 'pipe'] });
    relayOutput(p.name, child.stdout!);
    relayOutput(p.name, child.stderr!);
    child.on('exit', (code, signal) => { if (!shuttingDown) say(`${p.name} exited (${signal ?? code})`); });
    children.push({ name: p.name, child });
  }

  await waitHealthy('http://127.0.0.1:3001/healthz', 'inventory');
  const inventory = new InventoryClient('http://127.0.0.1:3001');
  for (const { sku, ...product } of CATALOG) {
    const current = await inventory.getProduct(sku);
    if (!current) await inventory.upsertProduct(sku, product);
  }
  await waitHealthy('http://127.0.0.1:3002/healthz', 'payment');
  await waitHealthy('http://127.0.0.1:3000/healthz', 'api');
  await waitForPort(3000, 'api');

  console.log(`
  Order orchestrator is up.
    API               http://127.0.0.1:3000   (GET /orders/{id}, POST /orders, /analytics/summary, /metrics)
    Temporal Web UI   ${temporalUi}
    Inventory         http://127.0.0.1:3001   (GET /products)
    Payment           http://127.0.0.1:3002   (GET /payments?orderId=...)
    Postgres          ${env.DATABASE_URL}
    NATS              ${env.NATS_URL}
    SMTP              ${env.SMTP_URL}
    Pipeline metrics  http://127.0.0.1:9464/metrics (relay), :9465 (email), :9466 (analytics)
    Dead letters      npm run dlq -- list      Rebuild analytics  npm run analytics:rebuild

  Catalog: ${CATALOG.map((p) => p.sku).join(', ')}.  Try:
    curl -si -X POST http://127.0.0.1:3000/orders -H 'content-type: application/json' \\
      -d '{"customerId":"c-1","customerEmail":"jane@shop.example","currency":"EUR","items":[{"sku":"MUG-001","quantity":2}],"payment":{"token":"tok_visa"}}'
  Ctrl-C stops everything.
`);
}

let shuttingDown = false;
async function shutdown(code: number) {
  if (shuttingDown) return;
  shuttingDown = true;
  say('stopping...');
  await Promise.all(children.map(({ child }) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => { clearTimeout(killer); resolve(); });
    child.kill('SIGTERM');
  })));
  for (const s of infra.reverse()) await s.stop().catch((err: unknown) => say(`stopping ${s.name}: ${(err as Error).message}`));
  say('stopped');
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
main().catch((err: unknown) => {
  console.error(`[dev] could not start: ${(err as Error).message}`);
  void shutdown(1);
});
