import type { Express } from 'express';
import { PAYMENT_CALLER_PERMISSIONS } from '../shared/caller-permissions';
import type { Pool } from 'pg';
import type { Logger } from '../../common/logger';
import { FaultInjector } from '../shared/faults';
import { createServiceApp } from '../shared/service-app';
import { paymentDocument } from './openapi';
import { paymentRoutes } from './payments';
import { threeDSecureRoutes } from './three-d-secure-routes';
import { WebhookSender, type WebhookRetryPolicy } from './webhook-sender';

export interface PaymentAppOptions {
  pool: Pool;
  logger: Logger;
  /** Pass one to switch faults on from the outside; otherwise the app gets its own, reachable over /test/faults in test mode. */
  faults?: FaultInjector;
  callers: ReadonlyMap<string, string>;
  /** Serve /test/faults and /test/3ds/{orderId}. */
  testMode?: boolean;
  /** Where 3-D Secure outcomes are POSTed (env PAYMENT_WEBHOOK_URL); unset → events are stored, not sent. */
  webhookUrl?: string;
  /** What webhooks are signed with (env PAYMENT_WEBHOOK_SECRET); needed when webhookUrl is set. */
  webhookSecret?: string;
  webhookRetry?: Partial<WebhookRetryPolicy>;
  /** A sender owned by the caller, who then closes it on shutdown; overrides the three options above. */
  webhooks?: WebhookSender;
}

/** The payment HTTP API (authorize, capture, void, refund, 3-D Secure). A pure factory: the caller decides where it listens. */
export function createPaymentApp(options: PaymentAppOptions): Express {
  const { pool, logger, faults = new FaultInjector(), callers, testMode = false } = options;
  const webhooks = options.webhooks ?? new WebhookSender({
    url: options.webhookUrl, secret: options.webhookSecret, pool, logger, retry: options.webhookRetry,
  });
  return createServiceApp({
    serviceName: 'payment', databaseUrlSetting: 'PAYMENT_DATABASE_URL', pool, logger, faults, callers, permissions: PAYMENT_CALLER_PERMISSIONS, testMode,
    routes: [paymentRoutes(pool)],
    testRoutes: [threeDSecureRoutes(pool, webhooks)],
    document: paymentDocument(testMode),
  });
}
