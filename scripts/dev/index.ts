import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROCESSES } from '../../common/processes';
import { migrate } from '../../prisma/migrate';
import { SAMPLE_CATALOG } from '../../services/inventory/sample-catalog';
import { beginRun, ensureTools, killRunProcesses, REPO_ROOT, startNats, startPostgres, startSmtpSink, startTemporalDevServer, type StartedService } from '../infra';
import { devPorts } from './ports';
import { SupervisedProcess } from './supervisor';

/**
 * `npm run dev`: the whole system on this machine, no Docker, no accounts.
 * Starts Postgres, NATS JetStream, the Temporal dev server (Web UI) and an SMTP sink unless
 * DATABASE_URL, NATS_URL, TEMPORAL_ADDRESS or SMTP_URL point at existing ones; applies the
 * migrations; starts every process of common/processes.ts as its own supervised child (a crashed
 * one is restarted); the inventory service seeds a small catalog. State is kept in .data/
 * (DEV_DATA_DIR; delete it for a clean slate). DEV_PORT_OFFSET shifts every port. Ctrl-C or
 * SIGTERM stops everything, and so does a failed start.
 */
const dataDir = process.env.DEV_DATA_DIR ?? join(REPO_ROOT, '.data');
const ports = devPorts(Number(process.env.DEV_PORT_OFFSET ?? 0));
const infra: StartedService[] = [];
const processes: SupervisedProcess[] = [];
const say = (msg: string) => console.log(`[dev] ${msg}`);

async function startInfrastructure(env: Record<string, string>): Promise<string> {
  const needed = [...(process.env.TEMPORAL_ADDRESS ? [] : ['temporal' as const]), ...(process.env.NATS_URL ? [] : ['nats' as const])];
  if (needed.length) say(`getting local tools: ${needed.join(', ')} (built once, then cached)`);
  const tools = needed.length ? await ensureTools(needed) : {};

  if (process.env.DATABASE_URL) env.DATABASE_URL = process.env.DATABASE_URL;
  else {
    const pg = await startPostgres({ dir: join(dataDir, 'postgres'), port: ports.postgres, persistent: true });
    infra.push(pg);
    await pg.ensureDatabase('orders');
    env.DATABASE_URL = pg.urlFor('orders');
    say(`Postgres on ${env.DATABASE_URL}`);
  }
  if (process.env.NATS_URL) env.NATS_URL = process.env.NATS_URL;
  else {
    const nats = await startNats({ bin: tools.NATS_SERVER_BIN!, dir: join(dataDir, 'nats'), port: ports.nats, logFile: join(dataDir, 'nats.log') });
    infra.push(nats);
    env.NATS_URL = nats.url;
    say(`NATS JetStream on ${nats.url}`);
  }
  let temporalUi = 'your Temporal cluster\'s Web UI';
  if (process.env.TEMPORAL_ADDRESS) env.TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS;
  else {
    const temporal = await startTemporalDevServer({ bin: tools.TEMPORAL_CLI_BIN!, port: ports.temporal, uiPort: ports.temporalUi, dbFile: join(dataDir, 'temporal.db'), logFile: join(dataDir, 'temporal.log') });
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
      port: ports.smtp,
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
  return temporalUi;
}

async function waitHealthy(url: string, what: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    const dead = processes.find((p) => p.exitedWith);
    if (dead) throw new Error(`a process exited during start-up (${dead.exitedWith}); see its output above`);
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${what} did not become healthy at ${url} within ${timeoutMs / 1000}s`);
}

async function main() {
  mkdirSync(dataDir, { recursive: true });
  const env: Record<string, string> = {};
  const temporalUi = await startInfrastructure(env);
  const applied = await migrate(env.DATABASE_URL!);
  say(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');

  Object.assign(env, ports.processEnv, { INVENTORY_SEED_SAMPLE_CATALOG: 'true' });
  const tsx = join(REPO_ROOT, 'node_modules/.bin/tsx');
  for (const spec of PROCESSES) {
    const metrics = 'metricsPort' in spec ? { METRICS_PORT: String(ports.health(spec)) } : {};
    const supervised = new SupervisedProcess({ name: spec.name, command: tsx, args: [join(REPO_ROOT, spec.entry)], cwd: REPO_ROOT, env: { ...process.env, ...env, ...metrics }, say });
    supervised.start();
    processes.push(supervised);
  }
  for (const spec of PROCESSES) await waitHealthy(`http://127.0.0.1:${ports.health(spec)}/healthz`, spec.name);
  const api = `http://127.0.0.1:${ports.http.api}`;
  console.log(`
  Order orchestrator is up.
    API               ${api}   (POST /orders, GET /orders/{id}, /analytics/summary, /metrics, /openapi.json)
    Temporal Web UI   ${temporalUi}
    Inventory         http://127.0.0.1:${ports.http.inventory}   (GET /products)
    Payment           http://127.0.0.1:${ports.http.payment}   (GET /payments?orderId=...)
    Postgres          ${env.DATABASE_URL}
    NATS              ${env.NATS_URL}
    SMTP              ${env.SMTP_URL}
    Metrics           ${PROCESSES.filter((p) => 'metricsPort' in p).map((p) => `${p.name} :${ports.health(p)}`).join(', ')}
    Operator tools    npm run ops -- help      (dead letters: dlq list|show|replay|drop; analytics rebuild)

  Catalog: ${SAMPLE_CATALOG.map((p) => p.sku).join(', ')}.  Try:
    curl -si -X POST ${api}/orders -H 'content-type: application/json' \\
      -d '{"customerId":"c-1","customerEmail":"jane@shop.example","currency":"EUR","items":[{"sku":"MUG-001","quantity":2}],"payment":{"token":"tok_visa"}}'
  Ctrl-C stops everything.
`);
}

let shuttingDown = false;
async function shutdown(code: number) {
  if (shuttingDown) return;
  shuttingDown = true;
  say('stopping...');
  await Promise.all(processes.map((p) => p.stop()));
  for (const s of infra.reverse()) await s.stop().catch((err: unknown) => say(`stopping ${s.name}: ${(err as Error).message}`));
  const orphans = killRunProcesses();
  if (orphans.length) say(`killed ${orphans.length} process(es) left behind: ${orphans.join(', ')}`);
  say('stopped');
  process.exit(code);
}

beginRun();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0));
main().catch((err: unknown) => {
  console.error(`[dev] could not start: ${(err as Error).message}`);
  void shutdown(1);
});
