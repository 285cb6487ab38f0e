import { parseArgs } from 'node:util';
import { parseSqlitePragmas } from '../../infra/temporal';
import { parseLevels } from './stats';

/** Command line of the orders benchmark (`npm run bench:orders -- --help`). */

export const USAGE = `Usage: npm run bench:orders -- [options]
  --clients LIST        closed-loop levels for our orders (default 1,8,32,64)
  --seconds S           duration of each closed-loop level (default 30)
  --orders N            orders per closed-loop level instead of a duration
  --rate R              open-loop arrival rate, orders/s (default 25)
  --rate-seconds S      duration of the open-loop run (default 60)
  --baseline-clients L  closed-loop levels of the no-op baselines (default 1,32)
  --ratio-clients N     the level the ratios compare at (default 32)
  --warmup-seconds S    warm-up of each subject at 4 clients, not measured (default 15)
  --history-sample N    workflows per run whose history is counted afterwards (default 5)
  --order-timeout S     give up waiting for an order's terminal event after S seconds (default 120)
  --no-baselines        measure our orders only
  --scale-out           also measure the scale-out step at --scale-out-clients: 1 worker + 1 API,
                        then 2 workers + 2 APIs (POSTs spread over both), and report the gain
  --scale-out-clients N closed-loop level of the scale-out step (default: --ratio-clients)
  --temporal-db MODE    file (default; as \`npm run dev\`: a SQLite file) or memory (nothing on disk)
  --sqlite-pragmas LIST the file's SQLite pragmas, e.g. journal_mode=wal,synchronous=off
                        (default journal_mode=wal,synchronous=normal, as \`npm run dev\`; none: SQLite's own)
  --env KEY=VALUE       a setting for our processes (e.g. TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS=20);
                        repeat for more
  --quick               smoke run: clients 1,4, 10 s each, rate 5/s for 10 s, baselines at 1,4,
                        ratios at 4, 5 s warm-up (figures only show that it works)
  --target              measure the system \`npm run dev\` already runs (ports shifted by
                        DEV_PORT_OFFSET or --port-offset) instead of starting one
  --port-offset N       port offset of the system to start or target (default: a free one / 0 with --target)
  --api-key KEY         sent as Authorization: Bearer KEY (default BENCH_API_KEY)
  --json FILE           also write the results as JSON to FILE
  --keep                keep the temp dir of a started system (data and process logs)`;

/** The targets of issue 12, read from the ratio table. */
export const TARGETS = {
  ordersVsLocalNoop: 0.7,
  ordersVsRegularNoop: 3,
  oneClientP50Ms: 150,
  oneClientP50VsLocalNoop: 3,
  cpuMsPerOrder: 80,
  openLoopPostP99Ms: 50,
  /** The open-loop rate the POST p99 target is set at, orders/s. */
  openLoopRate: 25,
};

export interface Options {
  clients: number[];
  seconds: number;
  orders: number | undefined;
  rate: number;
  rateSeconds: number;
  baselineClients: number[];
  ratioClients: number;
  warmupSeconds: number;
  historySample: number;
  orderTimeoutMs: number;
  baselines: boolean;
  /** The closed-loop level of the 1+1 vs 2+2 step, or undefined: no scale-out step. */
  scaleOutClients: number | undefined;
  temporalDb: 'file' | 'memory';
  /** SQLite pragmas of the dev server's file; undefined: the dev default. */
  sqlitePragmas: Record<string, string> | undefined;
  /** Settings for our processes (--env). */
  processEnv: Record<string, string>;
  quick: boolean;
  target: boolean;
  portOffset: number | undefined;
  apiKey: string | undefined;
  json: string | undefined;
  keep: boolean;
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

export function parseOptions(argv = process.argv.slice(2), env = process.env): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      clients: { type: 'string' }, seconds: { type: 'string' }, orders: { type: 'string' },
      rate: { type: 'string' }, 'rate-seconds': { type: 'string' },
      'baseline-clients': { type: 'string' }, 'ratio-clients': { type: 'string' },
      'warmup-seconds': { type: 'string' }, 'history-sample': { type: 'string', default: '5' },
      'order-timeout': { type: 'string', default: '120' }, 'no-baselines': { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false }, target: { type: 'boolean', default: false },
      'port-offset': { type: 'string' }, 'api-key': { type: 'string' }, json: { type: 'string' },
      keep: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
      'scale-out': { type: 'boolean', default: false }, 'scale-out-clients': { type: 'string' },
      'temporal-db': { type: 'string', default: 'file' }, 'sqlite-pragmas': { type: 'string' }, env: { type: 'string', multiple: true, default: [] },
    },
  });
  if (values.help) { console.log(USAGE); process.exit(0); }
  const quick = values.quick;
  const number = (name: string, raw: string | undefined, fallback: number, allowZero = false): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) fail(`--${name} must be a number ${allowZero ? '>= 0' : '> 0'}, got '${raw}'`);
    return n;
  };
  const levels = (name: string, raw: string | undefined, fallback: string) => {
    try { return parseLevels(raw ?? fallback); } catch (err) { return fail(`--${name}: ${(err as Error).message}`); }
  };
  const clients = levels('clients', values.clients, quick ? '1,4' : '1,8,32,64');
  const baselineClients = levels('baseline-clients', values['baseline-clients'], quick ? '1,4' : '1,32');
  const offset = values['port-offset'] ?? env.DEV_PORT_OFFSET;
  const ratioClients = Math.floor(number('ratio-clients', values['ratio-clients'], quick ? 4 : 32));
  const temporalDb = values['temporal-db'];
  if (temporalDb !== 'file' && temporalDb !== 'memory') fail(`--temporal-db must be file or memory, got '${temporalDb}'`);
  const pragmaSpec = values['sqlite-pragmas'];
  let sqlitePragmas: Record<string, string> | undefined;
  try {
    sqlitePragmas = pragmaSpec === undefined ? undefined : pragmaSpec === 'none' ? {} : parseSqlitePragmas(pragmaSpec);
  } catch (err) { fail(`--sqlite-pragmas: ${(err as Error).message}`); }
  if (sqlitePragmas && temporalDb === 'memory') fail('--sqlite-pragmas applies to the file (--temporal-db file) only');
  let processEnv: Record<string, string> = {};
  try { processEnv = parseEnvAssignments(values.env); } catch (err) { fail(`--env: ${(err as Error).message}`); }
  if (values.target && (values['scale-out'] || Object.keys(processEnv).length || pragmaSpec !== undefined || temporalDb !== 'file')) {
    fail('--target measures a system as it runs: --scale-out, --env, --temporal-db and --sqlite-pragmas need one the benchmark starts');
  }
  return {
    clients, baselineClients,
    seconds: number('seconds', values.seconds, quick ? 10 : 30),
    orders: values.orders === undefined ? undefined : Math.floor(number('orders', values.orders, 0)),
    rate: number('rate', values.rate, quick ? 5 : 25),
    rateSeconds: number('rate-seconds', values['rate-seconds'], quick ? 10 : 60),
    ratioClients,
    scaleOutClients: values['scale-out'] ? Math.floor(number('scale-out-clients', values['scale-out-clients'], ratioClients)) : undefined,
    temporalDb, sqlitePragmas, processEnv,
    warmupSeconds: number('warmup-seconds', values['warmup-seconds'], quick ? 5 : 15, true),
    historySample: Math.floor(number('history-sample', values['history-sample'], 5, true)),
    orderTimeoutMs: number('order-timeout', values['order-timeout'], 120) * 1000,
    baselines: !values['no-baselines'],
    quick,
    target: values.target,
    portOffset: offset === undefined || offset === '' ? undefined : Math.floor(number('port-offset', offset, 0, true)),
    apiKey: values['api-key'] ?? (env.BENCH_API_KEY || undefined),
    json: values.json,
    keep: values.keep,
  };
}

/** `KEY=VALUE` settings (--env) → an environment; keys as environment variables are named. */
export function parseEnvAssignments(assignments: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of assignments) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(a);
    if (!match) throw new Error(`"${a}" is not KEY=VALUE with an upper-case variable name`);
    out[match[1]!] = match[2]!;
  }
  return out;
}
