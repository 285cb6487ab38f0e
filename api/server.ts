import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { InventoryClient } from '../common/clients/inventory-client';
import type { Config } from '../common/config';
import { createDb, dbTimeouts } from '../common/db';
import { createPool } from '../common/pg';
import { closeServer } from '../common/http';
import { openInspectionSources } from '../common/inspection/sources';
import { temporalDataConverter, temporalPayloadCodec } from '../common/temporal-connection';
import type { Logger } from '../common/logger';
import { createApiApp } from './app';
import { purgeExpiredIdempotencyKeys } from './idempotency';
import { PostgresRateLimitStore } from './rate-limit';

/**
 * Connections of the API's Prisma client: its cold paths only (lists, cancels, operator pages,
 * analytics); each order's statements go through the node-postgres pool (DATABASE_POOL_MAX).
 */
const COLD_PATH_POOL_MAX = 3;

export async function startApi(config: Config, logger: Logger): Promise<{ url: string; stop(): Promise<void> }> {
  const db = createDb(config.DATABASE_URL, dbTimeouts(config), COLD_PATH_POOL_MAX);
  const pool = createPool(config.DATABASE_URL, dbTimeouts(config), config.DATABASE_POOL_MAX, (err) => logger.error({ err }, 'idle API database connection failed; it will be replaced'));
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const codec = temporalPayloadCodec(config);
  const temporal = new Client({
    connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: temporalDataConverter(config, codec),
    // Starting an order's workflow is a span of the request's trace; the workflow continues it (Temporal headers).
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
  });
  // The operator inspection (GET /operator/...): NATS as the read-only inspector user and the peers' clients, both on
  // first use (without PAYMENT_TOKEN the API starts; only the inspection answers 503).
  const inspection = await openInspectionSources(config, { db, temporal });
  const app = createApiApp({
    db, pool, temporal, logger, inspection: inspection.sources, taskQueue: config.TEMPORAL_TASK_QUEUE,
    codec: { codec, namespace: config.TEMPORAL_NAMESPACE, uiOrigins: config.TEMPORAL_UI_ORIGIN, secureCookie: process.env.NODE_ENV === 'production' },
    paymentConfirmationTimeoutMs: config.PAYMENT_CONFIRMATION_TIMEOUT,
    paymentWebhookSecret: config.PAYMENT_WEBHOOK_SECRET,
    paymentWebhookPreviousSecret: config.PAYMENT_WEBHOOK_SECRET_PREVIOUS,
    idempotencyKeyTtlMs: config.IDEMPOTENCY_KEY_TTL,
    temporalCallTimeoutMs: config.TEMPORAL_CALL_TIMEOUT,
    rateLimit: { postsPerWindow: config.API_RATE_LIMIT_POSTS, windowMs: config.API_RATE_LIMIT_WINDOW },
    inventory: new InventoryClient(config.INVENTORY_URL, config.INVENTORY_TOKEN, config.HTTP_CLIENT_TIMEOUT_MS),
  });
  const server = app.listen(config.API_PORT, config.HTTP_HOST);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const url = `http://${config.HTTP_HOST === '0.0.0.0' ? '127.0.0.1' : config.HTTP_HOST}:${(server.address() as AddressInfo).port}`;
  logger.info({ url }, 'API listening');
  const purge = setInterval(() => {
    purgeExpiredIdempotencyKeys(pool).then((n) => n && logger.info({ removed: n }, 'expired idempotency keys removed'), (err: unknown) => logger.warn({ err }, 'could not purge idempotency keys'));
    new PostgresRateLimitStore(pool, config.API_RATE_LIMIT_WINDOW).purgeEnded().catch((err: unknown) => logger.warn({ err }, 'could not purge rate-limit windows'));
  }, 15 * 60_000);
  purge.unref();
  return {
    url,
    async stop() {
      clearInterval(purge);
      await closeServer(server);
      await inspection.close();
      await connection.close();
      await db.$disconnect();
      await pool.end();
    },
  };
}
