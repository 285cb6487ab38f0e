import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { closeServer } from '../../common/http';
import type { Logger } from '../../common/logger';
import { createPaymentApp, DEFAULT_WEBHOOK_SECRET } from './app';
import { ensureSchema } from './schema';
import { WebhookSender, type WebhookRetryPolicy } from './webhook-sender';

export interface PaymentServiceOptions {
  databaseUrl: string;
  /** 0 picks a free port (tests); the actual one is returned. */
  port: number;
  logger: Logger;
  /** Defaults to loopback: the service exposes /test/* switches that must not face a network. */
  host?: string;
  webhookUrl?: string;
  webhookSecret?: string;
  webhookRetry?: Partial<WebhookRetryPolicy>;
}

export interface RunningPaymentService {
  port: number;
  url: string;
  stop(): Promise<void>;
}

export async function startPaymentService(options: PaymentServiceOptions): Promise<RunningPaymentService> {
  const { databaseUrl, port, logger, host = '127.0.0.1' } = options;
  const pool = new Pool({ connectionString: databaseUrl, application_name: 'payment' });
  pool.on('error', (err) => logger.error({ err }, 'idle payment database connection failed; it will be replaced'));
  try {
    await ensureSchema(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }

  const webhooks = new WebhookSender({
    url: options.webhookUrl, secret: options.webhookSecret ?? DEFAULT_WEBHOOK_SECRET, pool, logger, retry: options.webhookRetry,
  });
  const app = createPaymentApp({ pool, logger, webhooks });
  const server = await new Promise<ReturnType<typeof app.listen>>((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  }).catch(async (err: unknown) => {
    await pool.end();
    throw err;
  });
  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  logger.info({ url, webhookUrl: options.webhookUrl ?? null }, 'payment service listening');
  await webhooks.resendUndelivered();

  return {
    port: actualPort,
    url,
    async stop() {
      await closeServer(server);
      await webhooks.close();
      await pool.end();
    },
  };
}
