import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { closeServer } from '../../common/http';
import type { Logger } from '../../common/logger';
import { createInventoryApp } from './app';
import { ensureSchema } from './schema';

export interface InventoryServiceOptions {
  databaseUrl: string;
  /** 0 picks a free port (tests); the actual one is returned. */
  port: number;
  logger: Logger;
  /** Defaults to loopback: the service exposes /test/* switches that must not face a network. */
  host?: string;
}

export interface RunningInventoryService {
  port: number;
  url: string;
  stop(): Promise<void>;
}

export async function startInventoryService({ databaseUrl, port, logger, host = '127.0.0.1' }: InventoryServiceOptions): Promise<RunningInventoryService> {
  const pool = new Pool({ connectionString: databaseUrl, application_name: 'inventory' });
  pool.on('error', (err) => logger.error({ err }, 'idle inventory database connection failed; it will be replaced'));
  try {
    await ensureSchema(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }

  const app = createInventoryApp({ pool, logger });
  const server = await new Promise<ReturnType<typeof app.listen>>((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  }).catch(async (err: unknown) => {
    await pool.end();
    throw err;
  });
  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  logger.info({ url }, 'inventory service listening');

  return {
    port: actualPort,
    url,
    async stop() {
      await closeServer(server);
      await pool.end();
    },
  };
}
