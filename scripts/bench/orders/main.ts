import { Client, Connection } from '@temporalio/client';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { loadConfig } from '../../../common/config';
import { connectNats, natsManager } from '../../../common/nats';
import { PROCESSES } from '../../../common/processes';
import { freeDevPortOffset, devPorts } from '../../dev/ports';
import { startDevSystem, type DevSystem } from '../../dev/system';
import { removeDataDir } from '../../infra/postgres';
import { describeMachine } from '../report';
import { bounded, progress } from '../rig';
import { historyEventsPerWorkflow, noopWork, startNoopWorker, waitForNoopWorker, type NoopWorker } from './baseline';
import { closedLoop, openLoop, type Work } from './load';
import { consumersCaughtUp, measure, type Probe, type RunSpec } from './measure';
import { NOOP_WORKFLOWS, type NoopKind } from './noop';
import { parseOptions, type Options } from './options';
import { ensureBenchProduct, orderWork, TerminalEvents } from './orders';
import { pidsListeningOn } from './proc-stat';
import { reportJson, reportTable, type RunResult } from './report';
import { startExtraInstances } from './scale-out';
import { runAsScript } from '../../infra/script-main';

/**
 * `npm run bench:orders` (`-- --help`): our orders against the whole system, and the same-shape
 * no-op workflow with regular and with local activities on the same Temporal server as the
 * ceiling. Starts the system as `npm run dev` does (shifted ports, temp dir) or measures one
 * already running (--target). Progress goes to stderr, the tables to stdout, JSON to --json.
 */

/** The system's processes, in the order the CPU table shows them; each found by the port it listens on. */
const SYSTEM_PROCESSES = ['temporal', 'worker', 'api', 'relay', 'email', 'analytics', 'inventory', 'payment', 'postgres', 'nats'] as const;

function processPorts(offset: number): Record<string, number> {
  const ports = devPorts(offset);
  const ours = Object.fromEntries(PROCESSES.map((p) => [p.name, ports.health(p)]));
  return Object.fromEntries(SYSTEM_PROCESSES.map((name) => [name, ({ temporal: ports.temporal, postgres: ports.postgres, nats: ports.nats } as Record<string, number>)[name] ?? ours[name]!]));
}

/** The bearer key the load sends: --api-key / BENCH_API_KEY; when `npm run dev` prints dev keys, take the system's here. */
/** The key given (--api-key, BENCH_API_KEY), else the dev shop key of the system the bench started. */
function apiKeyFor(opts: Options, system: DevSystem | undefined): string | undefined {
  return opts.apiKey ?? system?.apiKeys.shop;
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const work = mkdtempSync(join(tmpdir(), 'orders-bench-'));
  const loadAtStart = loadavg();
  let system: DevSystem | undefined;
  let noopWorker: NoopWorker | undefined;
  const closers: (() => Promise<unknown>)[] = [];
  try {
    const offset = opts.portOffset ?? (opts.target ? 0 : await freeDevPortOffset());
    const ports = devPorts(offset);
    let env: Record<string, string | undefined>;
    if (opts.target) {
      env = {
        NATS_URL: process.env.NATS_URL ?? `nats://127.0.0.1:${ports.nats}`, TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? `127.0.0.1:${ports.temporal}`,
        DATABASE_URL: process.env.DATABASE_URL,
      };
      progress(`targeting the system at port offset ${offset}: API ${ports.http.api}, Temporal ${env.TEMPORAL_ADDRESS}, NATS ${env.NATS_URL}`);
    } else {
      progress(`starting the system at port offset ${offset}; state and logs in ${work}`);
      // One shop key sends every order: its POST rate limit must not be what the benchmark measures.
      system = await startDevSystem({
        dataDir: join(work, 'data'), portOffset: offset, say: (m) => progress(m), logDir: work,
        processEnv: { API_RATE_LIMIT_POSTS: '1000000', ...opts.processEnv },
        temporal: { inMemory: opts.temporalDb === 'memory', sqlitePragmas: opts.sqlitePragmas },
      });
      env = system.env;
    }
    const config = loadConfig({ ...process.env, ...env });
    const apiUrl = `http://127.0.0.1:${ports.http.api}`;
    await ensureBenchProduct(`http://127.0.0.1:${ports.http.inventory}`, config.INVENTORY_TOKEN);

    // The admin user: the bench reads every event subject and the consumers' backlog.
    const nc = await connectNats(config, 'admin', { name: 'bench-orders', waitOnFirstConnect: true });
    closers.push(() => nc.close());
    const jsm = await natsManager(nc);
    const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
    closers.push(() => connection.close());
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
    const terminal = new TerminalEvents(nc, config.EVENTS_SUBJECT_PREFIX);
    closers.push(async () => terminal.close());

    const listening = processPorts(offset);
    const extraPids: Record<string, number | undefined> = {};
    const probe = (settleOrders: boolean): Probe => ({
      pids: () => ({ ...pidsListeningOn(listening), ...extraPids }),
      settle: () => (settleOrders ? consumersCaughtUp(jsm, config.EVENTS_STREAM) : Promise.resolve()),
      historyEvents: (ids) => historyEventsPerWorkflow(client, ids, opts.historySample),
    });
    const found = probe(false).pids();
    const missing = Object.entries(found).filter(([, pid]) => pid === undefined).map(([name]) => name);
    progress(`processes: ${Object.entries(found).map(([n, pid]) => `${n}=${pid ?? '?'}`).join(' ')}`);
    if (missing.length) progress(`not found by port (their CPU shows n/a): ${missing.join(', ')}`);

    const runs: RunResult[] = [];
    const closedRuns = async (subject: RunResult['subject'], label: string, levels: number[], unit: Work, settle: boolean) => {
      for (const clients of levels) {
        const spec: RunSpec = { name: `${label} x${clients}`, subject, mode: 'closed', clients };
        runs.push(await measure(spec, probe(settle), () => closedLoop(spec.name, clients, opts.orders ? { units: opts.orders } : { seconds: opts.seconds }, unit)));
      }
    };
    const warmUp = async (label: string, unit: Work, settle: boolean) => {
      if (opts.warmupSeconds <= 0) return;
      progress(`${label}: warming up, 4 clients for ${opts.warmupSeconds} s`);
      const { samples } = await closedLoop(`${label} warm-up`, 4, { seconds: opts.warmupSeconds }, unit);
      if (!samples.some((s) => s.totalMs !== undefined)) {
        throw new Error(`${label}: nothing completed during the warm-up (${[...new Set(samples.map((s) => s.outcome))].join(', ')}). `
          + 'A 401 means the API wants a key: pass --api-key or set BENCH_API_KEY.');
      }
      await probe(settle).settle(); // the consumers' backlog of the warm-up must not count for the first run
    };

    const orderTarget = { apiKey: apiKeyFor(opts, system), terminal, timeoutMs: opts.orderTimeoutMs };
    const orders = orderWork({ ...orderTarget, apiUrls: [apiUrl] });
    await warmUp('orders', orders, true);
    await closedRuns('orders', 'orders', opts.clients, orders, true);

    if (opts.scaleOutClients && system) {
      const clients = opts.scaleOutClients;
      const step = async (scaleOut: '1+1' | '2+2', work: Work) => {
        const spec: RunSpec = { name: `scale-out ${scaleOut} x${clients}`, subject: 'orders', mode: 'closed', clients, scaleOut };
        runs.push(await measure(spec, probe(true), () => closedLoop(spec.name, clients, opts.orders ? { units: opts.orders } : { seconds: opts.seconds }, work)));
      };
      await step('1+1', orders);
      const extra = await startExtraInstances(system);
      try {
        Object.assign(extraPids, extra.pids());
        const spread = orderWork({ ...orderTarget, apiUrls: [apiUrl, extra.apiUrl] });
        await warmUp('scale-out 2+2', spread, true);
        await step('2+2', spread);
      } finally {
        for (const name of Object.keys(extra.pids())) delete extraPids[name];
        await extra.stop();
      }
    }

    if (opts.baselines) {
      progress('baselines: starting the bench-only worker (it bundles its workflow first)');
      noopWorker = startNoopWorker(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE, join(work, 'bench-noop-worker.log'), opts.processEnv);
      extraPids['bench-worker'] = noopWorker.pid;
      await waitForNoopWorker(client);
      for (const kind of Object.keys(NOOP_WORKFLOWS) as NoopKind[]) {
        const unit = noopWork(client, kind, opts.orderTimeoutMs);
        await warmUp(`no-op ${kind}`, unit, false);
        await closedRuns(`noop-${kind}`, `no-op ${kind}`, opts.baselineClients, unit, false);
      }
    }
    // Last: an arrival rate above what the system can do leaves a backlog that would slow every run after it.
    const openSpec: RunSpec = { name: `orders open ${opts.rate}/s`, subject: 'orders', mode: 'open', rate: opts.rate, rss: true };
    runs.push(await measure(openSpec, probe(true), () => openLoop(openSpec.name, opts.rate, opts.rateSeconds, orders)));

    let postgres = 'n/a';
    if (env.DATABASE_URL) {
      const pg = new PgClient({ connectionString: env.DATABASE_URL });
      postgres = await pg.connect().then(() => pg.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).then((r) => r.rows[0]!.v, () => 'n/a');
      await pg.end().catch(() => undefined);
    }
    const results = {
      machine: describeMachine(loadAtStart, loadavg(), postgres, nc.info?.version ?? 'unknown'),
      opts, mode: opts.target ? 'target' as const : 'started' as const,
      processes: [...SYSTEM_PROCESSES, ...(opts.scaleOutClients && system ? ['worker#2', 'api#2'] : []), ...(opts.baselines ? ['bench-worker'] : [])], runs,
    };
    console.log(reportTable(results));
    if (opts.json) {
      writeFileSync(opts.json, reportJson(results));
      progress(`results written to ${opts.json}`);
    }
  } finally {
    progress('stopping');
    await bounded(noopWorker?.stop() ?? Promise.resolve());
    for (const close of closers.reverse()) await bounded(close());
    await system?.stop();
    if (opts.keep) progress(`kept ${work}`);
    else {
      removeDataDir(join(work, 'data', 'postgres'));
      rmSync(work, { recursive: true, force: true });
    }
  }
}

runAsScript('bench:orders', main);
