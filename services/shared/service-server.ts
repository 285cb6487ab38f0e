import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { Pool } from 'pg';
import { closeServer } from '../../common/http';
import type { Logger } from '../../common/logger';

/** How a peer service is started: the options its start function takes. */
export interface ServiceOptions {
  databaseUrl: string;
  /** 0 picks a free port (tests); the actual one is returned. */
  port: number;
  logger: Logger;
  /** Defaults to loopback (HTTP_HOST); containers set 0.0.0.0. */
  host?: string;
  /** Who may call, by name: each caller's token (INVENTORY_CALLER_TOKENS, PAYMENT_CALLER_TOKENS). */
  callers: ReadonlyMap<string, string>;
  /** Serve the /test/* routes (fault injection, 3-D Secure simulation): SERVICE_TEST_MODE. Default off. */
  testMode?: boolean;
  /** Longest wait for a database connection, new or from the full pool (DATABASE_CONNECT_TIMEOUT); default 5 s. */
  databaseConnectTimeoutMs?: number;
  /** Longest one SQL statement may run, lock waits included, before Postgres cancels it (DATABASE_STATEMENT_TIMEOUT); default 15 s. */
  databaseStatementTimeoutMs?: number;
}

export interface RunningService {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** What a service builds on its database pool once the schema is in place. */
export interface ServiceParts {
  app: Express;
  /** Extra fields for the "listening" log line. */
  listeningLogFields?: Record<string, unknown>;
  /** Runs once the server listens, before the start function returns. */
  afterListening?: () => Promise<void>;
  /** Runs on stop, after the server has closed and before the pool ends. */
  close?: () => Promise<void>;
}

export interface ServiceServerOptions extends ServiceOptions {
  /** e.g. 'inventory': the pool's application_name and the subject of log lines. */
  serviceName: string;
  ensureSchema(pool: Pool): Promise<void>;
  build(pool: Pool): ServiceParts;
}

/** Opens the service's pool, ensures its schema, listens, and returns how to stop it all again. */
export async function startServiceServer(options: ServiceServerOptions): Promise<RunningService> {
  const { serviceName, databaseUrl, port, logger, host = '127.0.0.1', databaseConnectTimeoutMs = 5_000, databaseStatementTimeoutMs = 15_000 } = options;
  // Without these a request waits for ever for a connection or a lock: it then runs long after
  // its caller gave up. A timed-out request fails (500, retryable) and writes nothing.
  const pool = new Pool({
    connectionString: databaseUrl, application_name: serviceName,
    connectionTimeoutMillis: databaseConnectTimeoutMs, statement_timeout: databaseStatementTimeoutMs,
  });
  pool.on('error', (err) => logger.error({ err }, `idle ${serviceName} database connection failed; it will be replaced`));
  try {
    await options.ensureSchema(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }

  const parts = options.build(pool);
  const { app } = parts;
  const server = await new Promise<ReturnType<typeof app.listen>>((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  }).catch(async (err: unknown) => {
    await pool.end();
    throw err;
  });
  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  logger.info({ url, callers: [...options.callers.keys()], testMode: options.testMode ?? false, ...parts.listeningLogFields },
    `${serviceName} service listening${options.testMode ? ' in test mode (/test/* routes on)' : ''}`);
  await parts.afterListening?.();

  return {
    port: actualPort,
    url,
    async stop() {
      await closeServer(server);
      await parts.close?.();
      await pool.end();
    },
  };
}
