import type { Machine } from '../report';
import { table } from '../report';
import { round } from '../rig';
import { TARGETS, type Options } from './options';
import type { Latency } from './stats';

/** The orders benchmark's figures: one row per run, CPU per process, the ratios of issue 12, RSS; or JSON. */

export type Subject = 'orders' | 'noop-regular' | 'noop-local';

export interface RunResult {
  name: string;
  subject: Subject;
  mode: 'closed' | 'open';
  clients?: number;
  rate?: number;
  achievedRate?: number;
  seconds: number;
  completed: number;
  failed: number;
  /** How the units ended (terminal statuses, "completed", HTTP errors), with counts. */
  outcomes: Record<string, number>;
  /** Completed units per second. */
  throughput: number;
  /** POST /orders, or the workflow start call. */
  request: Latency;
  /** POST → terminal event, or start → workflow result. */
  total: Latency;
  /** CPU ms per completed unit, per process (undefined: not found, or restarted during the run). */
  cpuMs: Record<string, number | undefined>;
  /** Sum over every process found. */
  cpuMsAll: number | undefined;
  /** The benchmark process itself (load generator, NATS subscriber, Temporal client): not part of the system. */
  loadGeneratorCpuMs: number;
  historyEvents: number | undefined;
  /** Open loop: RSS of each process at its start and end, MiB. */
  rss?: Record<string, { start?: number; end?: number }>;
  /** A run of the scale-out step: how many workers + API processes ran (not one of the ratios' runs). */
  scaleOut?: '1+1' | '2+2';
}

export interface Results { machine: Machine; opts: Options; mode: 'started' | 'target'; processes: string[]; runs: RunResult[] }

export interface Ratio { what: string; value: number | undefined; target: string; met: boolean | undefined }

const closedRun = (runs: readonly RunResult[], subject: Subject, clients: number) =>
  runs.find((r) => r.subject === subject && r.mode === 'closed' && r.clients === clients && !r.scaleOut);
const fixed = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(digits));

/** The ratios of issue 12 at `clients` clients, each with its target. */
export function ratios(runs: readonly RunResult[], clients: number): Ratio[] {
  const closed = (subject: Subject, c: number) => closedRun(runs, subject, c);
  const open = runs.find((r) => r.subject === 'orders' && r.mode === 'open');
  const div = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !b || Number.isNaN(a) || Number.isNaN(b) ? undefined : a / b);
  const row = (what: string, value: number | undefined, target: string, ok: (v: number) => boolean): Ratio =>
    ({ what, value, target, met: value === undefined || Number.isNaN(value) ? undefined : ok(value) });
  const orders = closed('orders', clients);
  const one = closed('orders', 1);
  const localOne = closed('noop-local', 1);
  return [
    row(`orders/s at ${clients} clients / local-activity no-op wf/s at ${clients}`, div(orders?.throughput, closed('noop-local', clients)?.throughput), `>= ${TARGETS.ordersVsLocalNoop}`, (v) => v >= TARGETS.ordersVsLocalNoop),
    row(`orders/s at ${clients} clients / regular-activity no-op wf/s at ${clients}`, div(orders?.throughput, closed('noop-regular', clients)?.throughput), `>= ${TARGETS.ordersVsRegularNoop}`, (v) => v >= TARGETS.ordersVsRegularNoop),
    row('1 client: POST -> terminal p50, ms', one?.total.p50, `<= ${TARGETS.oneClientP50Ms}`, (v) => v <= TARGETS.oneClientP50Ms),
    row('1 client: p50 / local-activity no-op p50 at 1 client', div(one?.total.p50, localOne?.total.p50), `<= ${TARGETS.oneClientP50VsLocalNoop}`, (v) => v <= TARGETS.oneClientP50VsLocalNoop),
    row(`CPU per order, all processes, at ${clients} clients, ms`, orders?.cpuMsAll, `<= ${TARGETS.cpuMsPerOrder}`, (v) => v <= TARGETS.cpuMsPerOrder),
    row(`POST /orders p99 in the open loop${open?.rate ? ` at ${open.rate}/s` : ''}, ms`, open?.request.p99, `<= ${TARGETS.openLoopPostP99Ms}`, (v) => v <= TARGETS.openLoopPostP99Ms),
  ];
}

export function ratioTable(rows: readonly Ratio[]): string {
  return table(['ratio', 'value', 'target', 'verdict'], rows.map((r) => [r.what, fixed(r.value, 2), r.target, r.met === undefined ? 'n/a' : r.met ? 'met' : 'MISSED']));
}

export interface CpuBudget { target: string; ordersPerSecond: number | undefined; budgetMs: number | undefined }
export interface CpuBudgets {
  /** CPU ms per second of wall time our orders took at the level (all processes). */
  usedMsPerSecond: number | undefined;
  /** CPU per order our orders took at the level, all processes (what each budget compares with). */
  nowMs: number | undefined;
  /** The local-activity no-op's CPU per workflow at the level: the engine's own cost, no work. */
  engineAloneMs: number | undefined;
  budgets: CpuBudget[];
}

/**
 * What each throughput target leaves an order in CPU, at the CPU the system used in this run: the
 * CPU per second our orders took at `clients` (orders/s x CPU per order) divided by the orders/s
 * the target asks for. Set against the engine's own cost per workflow, it says whether a target
 * is a matter of our code at all.
 */
export function cpuBudgets(runs: readonly RunResult[], clients: number): CpuBudgets {
  const closed = (subject: Subject) => closedRun(runs, subject, clients);
  const orders = closed('orders');
  const local = closed('noop-local');
  const regular = closed('noop-regular');
  const usedMsPerSecond = orders?.cpuMsAll === undefined ? undefined : orders.throughput * orders.cpuMsAll;
  const budget = (target: string, ordersPerSecond: number | undefined): CpuBudget =>
    ({ target, ordersPerSecond, budgetMs: usedMsPerSecond === undefined || !ordersPerSecond ? undefined : usedMsPerSecond / ordersPerSecond });
  return {
    usedMsPerSecond,
    nowMs: orders?.cpuMsAll,
    engineAloneMs: local?.cpuMsAll,
    budgets: [
      budget(`orders/s >= ${TARGETS.ordersVsLocalNoop} x local-activity no-op`, local && TARGETS.ordersVsLocalNoop * local.throughput),
      budget(`orders/s >= ${TARGETS.ordersVsRegularNoop} x regular-activity no-op`, regular && TARGETS.ordersVsRegularNoop * regular.throughput),
      budget(`open loop at ${TARGETS.openLoopRate}/s`, TARGETS.openLoopRate),
    ],
  };
}

export function cpuBudgetTable({ budgets, nowMs }: CpuBudgets): string {
  return table(['target', 'needs orders/s', 'CPU ms per order it leaves', 'now'], budgets.map((b) => [b.target, fixed(b.ordersPerSecond, 2), fixed(b.budgetMs), fixed(nowMs)]));
}

const load = (r: RunResult) => (r.mode === 'closed' ? `${r.clients} client${r.clients === 1 ? '' : 's'}` : `${r.rate}/s (got ${fixed(r.achievedRate)})`);

export function runsTable(runs: readonly RunResult[]): string {
  return table(
    ['run', 'load', 's', 'done', 'failed', '/s', 'req p50', 'p90', 'p99', 'max', 'end p50', 'p90', 'p99', 'max', 'hist ev', 'CPU ms/unit'],
    runs.map((r) => [r.name, load(r), fixed(r.seconds, 0), r.completed, r.failed, fixed(r.throughput, 2),
      fixed(r.request.p50), fixed(r.request.p90), fixed(r.request.p99), fixed(r.request.max),
      fixed(r.total.p50), fixed(r.total.p90), fixed(r.total.p99), fixed(r.total.max), fixed(r.historyEvents, 0), fixed(r.cpuMsAll)]),
  );
}

export function cpuTable(runs: readonly RunResult[], processes: readonly string[]): string {
  return table(['run', ...processes, 'all', 'load gen'], runs.map((r) => [r.name, ...processes.map((p) => fixed(r.cpuMs[p])), fixed(r.cpuMsAll), fixed(r.loadGeneratorCpuMs)]));
}

export function rssTable(run: RunResult): string {
  return table(['process', 'RSS start MiB', 'RSS end MiB'], Object.entries(run.rss ?? {}).map(([p, m]) => [p, fixed(m.start), fixed(m.end)]));
}

/** The scale-out step: 1 worker + 1 API against 2 + 2 at the same load, and the gain. */
export function scaleOutTable(runs: readonly RunResult[]): string | undefined {
  const one = runs.find((r) => r.scaleOut === '1+1');
  const two = runs.find((r) => r.scaleOut === '2+2');
  if (!one || !two) return undefined;
  const gain = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !a ? 'n/a' : `x ${(b / a).toFixed(2)}`);
  const row = (label: string, r: RunResult) => [label, r.clients ?? 'n/a', fixed(r.throughput, 2), fixed(r.request.p50), fixed(r.total.p50), fixed(r.total.p99), fixed(r.cpuMsAll)];
  return table(['workers + APIs', 'clients', 'orders/s', 'POST p50', 'end p50', 'end p99', 'CPU ms/order'], [
    row('1 + 1', one), row('2 + 2', two),
    ['gain (2+2 / 1+1)', '', gain(one.throughput, two.throughput), gain(one.request.p50, two.request.p50), gain(one.total.p50, two.total.p50), gain(one.total.p99, two.total.p99), gain(one.cpuMsAll, two.cpuMsAll)],
  ]);
}

export function reportTable(results: Results): string {
  const { machine, opts, runs, processes } = results;
  const out: string[] = ['Orders benchmark (npm run bench:orders)'];
  out.push(`machine   ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.platform}, node ${machine.node}`);
  out.push(`load avg  start ${machine.loadAvgAtStart.join(' / ')}, end ${machine.loadAvgAtEnd.join(' / ')} (1/5/15 min; other processes share the CPUs)`);
  out.push(`system    ${results.mode === 'target' ? 'an already running `npm run dev`' : 'started by the benchmark as `npm run dev` starts it, in a temp dir'}; Postgres ${machine.postgres}, nats-server ${machine.natsServer}`);
  if (results.mode === 'started') {
    const pragmas = opts.sqlitePragmas === undefined ? 'dev default pragmas' : Object.keys(opts.sqlitePragmas).length ? Object.entries(opts.sqlitePragmas).map(([k, v]) => `${k}=${v}`).join(',') : 'SQLite\'s own pragmas';
    out.push(`temporal  dev server state ${opts.temporalDb === 'memory' ? 'in memory' : `in a SQLite file (${pragmas})`}`);
  }
  const env = Object.entries(opts.processEnv);
  if (env.length) out.push(`settings  ${env.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  out.push(`runs      ${opts.orders ? `${opts.orders} orders` : `${opts.seconds} s`} per closed-loop level, open loop ${opts.rate}/s for ${opts.rateSeconds} s${opts.quick ? ' (--quick: a smoke run, not a measurement)' : ''}`);
  out.push('');
  out.push('Runs: req = POST /orders (no-op: the workflow start call); end = POST -> terminal event on NATS (no-op: start -> result); latencies in ms;');
  out.push('      /s = completed per second; hist ev = history events per workflow (a sample, read after the run); CPU ms per completed unit, all processes');
  out.push(runsTable(runs));
  out.push('');
  out.push('CPU ms per completed unit, per process (/proc utime+stime before/after the run, with descendants; Postgres = all its processes)');
  out.push(cpuTable(runs, processes));
  out.push('');
  out.push(`Ratios (issue 12 targets, at ${opts.ratioClients} clients)`);
  out.push(ratioTable(ratios(runs, opts.ratioClients)));
  const budgets = cpuBudgets(runs, opts.ratioClients);
  if (budgets.usedMsPerSecond !== undefined) {
    out.push('');
    out.push(`CPU per order each throughput target leaves, at the CPU our orders used at ${opts.ratioClients} clients (${fixed(budgets.usedMsPerSecond, 0)} ms per second of ${machine.cpus * 1000});`);
    out.push(`the local-activity no-op alone costs ${fixed(budgets.engineAloneMs)} ms per workflow (Temporal and a worker doing nothing), the target for all processes is ${TARGETS.cpuMsPerOrder}`);
    out.push(cpuBudgetTable(budgets));
  }
  const scaleOut = scaleOutTable(runs);
  if (scaleOut) {
    out.push('');
    out.push('Scale-out step: the same closed loop with 1 worker + 1 API, then 2 workers + 2 APIs (POSTs alternate between the APIs), same Temporal, Postgres, relay');
    out.push(scaleOut);
  }
  const open = runs.find((r) => r.rss);
  if (open) {
    out.push('');
    out.push(`RSS of each process at the start and end of the open-loop run (${open.name}; Postgres: sum over its processes, shared memory counted per process)`);
    out.push(rssTable(open));
  }
  const failures = runs.filter((r) => r.failed).map((r) => `${r.name}: ${Object.entries(r.outcomes).map(([k, v]) => `${k} x${v}`).join(', ')}`);
  if (failures.length) out.push('', 'Outcomes of runs with failures:', ...failures.map((f) => `  ${f}`));
  return out.join('\n');
}

export function reportJson(results: Results): string {
  const ratioRows = ratios(results.runs, results.opts.ratioClients).map((r) => ({ ...r, value: r.value === undefined ? undefined : round(r.value, 3) }));
  // Not-measured figures as null (not dropped), so every run has the same keys.
  return JSON.stringify({ ...results, ratios: ratioRows, cpuBudgets: cpuBudgets(results.runs, results.opts.ratioClients) }, (_key, value: unknown) => (value === undefined ? null : value), 2);
}
