import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { Pool } from 'pg';
import type { InventoryClient } from '../common/clients/inventory-client';
import type { Db } from '../common/db';
import type { InspectionSources } from '../common/inspection/sources';
import type { Logger } from '../common/logger';
import type { RateLimitSettings } from './rate-limit';

/** What the API's routes are built from; api/server.ts fills it from the configuration. */
export interface ApiDeps {
  /** Prisma: the cold paths (lists, cancels, operator pages, analytics, session cookies). */
  db: Db;
  /** node-postgres: each order's hot path (rate limit, Idempotency-Key, order vault, order by id, webhook de-dup). */
  pool: Pool;
  temporal: Client;
  inventory: InventoryClient;
  taskQueue: string;
  logger: Logger;
  paymentConfirmationTimeoutMs: number;
  paymentWebhookSecret: string;
  /** While the webhook secret is rotated: the one being replaced, still accepted (PAYMENT_WEBHOOK_SECRET_PREVIOUS). */
  paymentWebhookPreviousSecret?: string;
  idempotencyKeyTtlMs: number;
  /** Deadline of each call to Temporal (TEMPORAL_CALL_TIMEOUT). */
  temporalCallTimeoutMs: number;
  /** POSTs per client and window (API_RATE_LIMIT_POSTS, API_RATE_LIMIT_WINDOW). */
  rateLimit: RateLimitSettings;
  /** Where the operator inspection reads (GET /operator/...); absent: those routes answer 503. */
  inspection?: InspectionSources;
  /** The codec server (/codec): the client's payload codec, our namespace, the Web UI origins allowed by CORS. */
  codec: { codec: PayloadCodec; namespace: string; uiOrigins: string[]; /** Session cookies only over HTTPS (production). */ secureCookie: boolean };
}
