import { startServiceServer, type RunningService, type ServiceOptions } from '../shared/service-server';
import { createPaymentApp } from './app';
import { ensureSchema } from './schema';
import { WebhookSender, type WebhookRetryPolicy } from './webhook-sender';

export interface PaymentServiceOptions extends ServiceOptions {
  webhookUrl?: string;
  webhookSecret?: string;
  webhookRetry?: Partial<WebhookRetryPolicy>;
}

export type RunningPaymentService = RunningService;

export function startPaymentService(options: PaymentServiceOptions): Promise<RunningPaymentService> {
  const { logger } = options;
  return startServiceServer({
    ...options,
    serviceName: 'payment',
    ensureSchema,
    build: (pool) => {
      const webhooks = new WebhookSender({
        url: options.webhookUrl, secret: options.webhookSecret, pool, logger, retry: options.webhookRetry,
      });
      return {
        app: createPaymentApp({ pool, logger, webhooks, callers: options.callers, testMode: options.testMode }),
        listeningLogFields: { webhookUrl: options.webhookUrl ?? null },
        afterListening: () => webhooks.resendUndelivered(),
        close: () => webhooks.close(),
      };
    },
  });
}
