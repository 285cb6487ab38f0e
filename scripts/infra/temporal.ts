import { orderSearchAttributes } from '../../common/search-attributes';
import { spawnLogged, waitForPort, type StartedService } from './spawn';

/**
 * The Temporal dev server (`temporal server start-dev` of the cached CLI) as `npm run dev`,
 * `npm test` and the benchmarks start it, with the settings that decide its speed: where it keeps
 * its state (a SQLite file, or memory), the SQLite pragmas of that file, and the dynamic config
 * values that turn on server features the worker SDK already uses.
 */

/** Search attributes the order workflow keeps current, registered on the dev server. */
export const SEARCH_ATTRIBUTES = orderSearchAttributes.map((key) => `${key.name}=Keyword`);

/**
 * The file-backed server's SQLite settings. SQLite's defaults (rollback journal, synchronous=FULL)
 * cost several fsyncs per commit, and the server commits a few times per workflow step. With a
 * write-ahead log and synchronous=NORMAL a commit is one append, synced at checkpoints: a crash of
 * the server process (kill -9, as the chaos harness does) loses nothing committed; only an OS
 * crash or power cut may lose the last commits, and never corrupts the file. Fine for a dev server.
 */
export const DURABLE_DEV_SQLITE_PRAGMAS: Readonly<Record<string, string>> = { journal_mode: 'wal', synchronous: 'normal' };

/**
 * Server features off by default that the worker SDK uses when the server offers them. Eager
 * activity dispatch: when a workflow task schedules an activity on its own task queue, the server
 * hands the activity back in the answer to that workflow task's completion (the SDK reserves a
 * slot, maxEagerActivityReservationsPerWorkflowTask), instead of a round trip through matching.
 */
export const DEV_DYNAMIC_CONFIG: Readonly<Record<string, unknown>> = { 'system.enableActivityEagerExecution': true };

export interface TemporalDevServerOptions {
  bin: string;
  port: number;
  uiPort?: number;
  /** The codec server the Web UI decodes payloads with (our API's /codec). */
  codecEndpoint?: string;
  /** The SQLite file it keeps its state in; unset: in memory (lost when it stops). */
  dbFile?: string;
  /** SQLite pragmas of the file (`--sqlite-pragma`); default DURABLE_DEV_SQLITE_PRAGMAS. Ignored in memory. */
  sqlitePragmas?: Readonly<Record<string, string>>;
  /** Dynamic config values (`--dynamic-config-value`); default DEV_DYNAMIC_CONFIG. */
  dynamicConfig?: Readonly<Record<string, unknown>>;
  logFile: string;
}

/** The command line of `temporal` for these options (pure, for the tests). */
export function temporalDevServerArgs(opts: Omit<TemporalDevServerOptions, 'bin' | 'logFile'>): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--log-level', 'warn'];
  if (opts.uiPort) args.push('--ui-port', String(opts.uiPort));
  else args.push('--headless');
  if (opts.uiPort && opts.codecEndpoint) args.push('--ui-codec-endpoint', opts.codecEndpoint);
  if (opts.dbFile) {
    args.push('--db-filename', opts.dbFile);
    for (const [pragma, value] of Object.entries(opts.sqlitePragmas ?? DURABLE_DEV_SQLITE_PRAGMAS)) args.push('--sqlite-pragma', `${pragma}=${value}`);
  }
  for (const [key, value] of Object.entries(opts.dynamicConfig ?? DEV_DYNAMIC_CONFIG)) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  for (const sa of SEARCH_ATTRIBUTES) args.push('--search-attribute', sa);
  return args;
}

/** `pragma=value[,pragma=value]` (a bench option) → pragmas; throws on anything else. */
export function parseSqlitePragmas(spec: string): Record<string, string> {
  const pragmas: Record<string, string> = {};
  for (const pair of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([a-z_]+)=([A-Za-z0-9_-]+)$/.exec(pair);
    if (!match) throw new Error(`"${pair}" is not pragma=value (e.g. journal_mode=wal,synchronous=normal)`);
    pragmas[match[1]!] = match[2]!;
  }
  return pragmas;
}

export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<StartedService & { uiUrl?: string }> {
  const proc = spawnLogged(opts.bin, temporalDevServerArgs(opts), opts.logFile);
  try {
    await waitForPort(opts.port, 'Temporal dev server', 90_000, proc.child);
    if (opts.uiPort) await waitForPort(opts.uiPort, 'Temporal Web UI', 60_000, proc.child);
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}; see ${opts.logFile}`);
  }
  return {
    name: 'temporal',
    url: `127.0.0.1:${opts.port}`,
    ...(opts.uiPort ? { uiUrl: `http://127.0.0.1:${opts.uiPort}` } : {}),
    stop: proc.stop,
    crash: proc.crash,
  };
}
