import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../common/config';
import { removeDataDir } from '../infra/postgres';
import { freeDevPortOffset } from '../dev/ports';
import { startDevSystem, type DevSystem } from '../dev/system';
import { runChecks, type CheckResult } from './checks';
import { chaosSchedule, runSchedule, type FaultLog } from './faults';
import { CHAOS_SKUS, createChaosApiKeys, runLoad, type PlacedOrder } from './load';
import { waitForQuiet } from './quiet';
import { runAsScript } from '../infra/script-main';

/**
 * `npm run chaos`: a soak test of the whole system, started the way `npm run dev` starts it, in a
 * private temporary directory. N orders from C clients while processes are killed, NATS,
 * Postgres and Temporal go away, peers answer too late and poison events arrive; then, once
 * quiet, the promises are checked from each service's own records (scripts/chaos/checks.ts).
 * Exits 1 on any violation.
 */
const USAGE = `usage: npm run chaos -- [--orders 1000] [--clients 20] [--schedule full|ci] [--seed N] [--json file] [--keep] [--port-offset N]`;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function table(results: CheckResult[]): string {
  const lines = ['check  result  figures', '-----  ------  -------'];
  for (const r of results) {
    const figures = Object.entries(r.figures).map(([k, v]) => `${k}=${v}`).join(' ');
    lines.push(`${r.id.padEnd(5)}  ${(r.violations.length ? `FAIL ${r.violations.length}` : 'ok').padEnd(6)}  ${r.promise}`);
    lines.push(`${''.padEnd(15)}${figures}`);
    for (const v of r.violations) lines.push(`${''.padEnd(15)}! ${v}`);
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      orders: { type: 'string', default: '1000' }, clients: { type: 'string', default: '20' },
      schedule: { type: 'string', default: 'full' }, seed: { type: 'string', default: String(Date.now() % 100_000) },
      json: { type: 'string' }, keep: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
      'port-offset': { type: 'string' },
    },
  });
  if (values.help) { console.log(USAGE); return 0; }
  const orders = Number(values.orders);
  const clients = Number(values.clients);
  const schedule = values.schedule as 'full' | 'ci';
  if (!Number.isInteger(orders) || orders < 1 || !Number.isInteger(clients) || clients < 1 || !['full', 'ci'].includes(schedule)) {
    console.error(USAGE);
    return 2;
  }
  const seed = Number(values.seed);
  const say = (m: string) => console.log(`[chaos] ${m}`);
  const dir = mkdtempSync(join(tmpdir(), 'orders-chaos-'));
  say(`${orders} orders from ${clients} clients, ${schedule} fault schedule, seed ${seed}; state and logs in ${dir}`);
  const mails: { messageId: string | undefined; to: string[] }[] = [];
  let system: DevSystem | undefined;
  try {
    system = await startDevSystem({
      dataDir: join(dir, 'data'), portOffset: values['port-offset'] ? Number(values['port-offset']) : await freeDevPortOffset(), say, logDir: dir,
      processEnv: { PAYMENT_CONFIRMATION_TIMEOUT: schedule === 'full' ? '30s' : '10s', CONSUMER_RETRY_MAX_DELAY: '5s' },
      onMail: (mail) => mails.push({ messageId: mail.messageId, to: mail.to }),
    });
    const inventory = `http://127.0.0.1:${system.ports.http.inventory}`;
    for (const { sku, ...product } of Object.values(CHAOS_SKUS)) {
      const res = await fetch(`${inventory}/products/${sku}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${system.env.INVENTORY_TOKEN!}`, 'idempotency-key': `chaos-${sku}-${seed}` }, body: JSON.stringify(product) });
      if (!res.ok) throw new Error(`could not set up product ${sku}: HTTP ${res.status} ${await res.text()}`);
    }
    const apiKeys = await createChaosApiKeys(system.env.DATABASE_URL!, clients);

    const poison = { injected: 0 };
    const faults: FaultLog[] = [];
    const startedAt = Date.now();
    let placed = 0;
    const doing: string[] = [];
    const progress = setInterval(() => {
      const busy = doing.filter((d) => d !== 'done');
      say(`${((Date.now() - startedAt) / 1000).toFixed(0)}s: ${placed}/${orders} orders placed; last fault: ${faults.at(-1)?.what ?? '–'}`);
      if (placed === orders && busy.length) say(`  still: ${busy.join('; ')}`);
    }, 5_000);
    const faultsDone = runSchedule(system, chaosSchedule(schedule, poison), startedAt, (entry) => { faults.push(entry); say(`fault at ${(entry.at / 1000).toFixed(0)}s: ${entry.what}`); });
    let load: PlacedOrder[];
    try {
      load = await runLoad({
        apiUrl: `http://127.0.0.1:${system.ports.http.api}`, paymentUrl: `http://127.0.0.1:${system.ports.http.payment}`, paymentToken: system.env.PAYMENT_TOKEN!,
        orders, clients, apiKeys, random: mulberry32(seed), onProgress: (n) => { placed = n; }, doing,
      });
      await faultsDone;
    } finally {
      clearInterval(progress);
    }
    say(`load done after ${((Date.now() - startedAt) / 1000).toFixed(0)}s: ${load.filter((o) => o.accepted).length} accepted; waiting for quiet`);
    const quiet = await waitForQuiet(system, load, say, schedule === 'full' ? 600_000 : 240_000);
    say(quiet ? 'quiet' : 'did not become quiet in time; checking anyway');

    const results = await runChecks({
      databaseUrl: system.env.DATABASE_URL!, natsUrl: system.env.NATS_URL!, stream: loadConfig().EVENTS_STREAM, orders: load, mails,
      poisonInjected: poison.injected, emailCrashes: faults.filter((f) => f.what === 'done: kill -9 email').length,
    });
    console.log(`\n${table(results)}\n`);
    const failed = results.filter((r) => r.violations.length > 0);
    if (values.json) {
      writeFileSync(values.json, JSON.stringify({ orders, clients, schedule, seed, seconds: (Date.now() - startedAt) / 1000, faults, results }, null, 2));
    }
    say(failed.length ? `VIOLATED: ${failed.map((r) => r.id).join(', ')} (logs in ${dir})` : 'all promises kept');
    return failed.length ? 1 : 0;
  } finally {
    await system?.stop();
    if (!values.keep) {
      removeDataDir(join(dir, 'data', 'postgres'));
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

runAsScript('chaos', main);
