import { z } from 'zod';
import { loadConfig } from '../../common/config';
import { runProcess } from '../../common/run-process';
import { DEFAULT_WEBHOOK_SECRET } from './app';
import { startPaymentService } from './server';

const webhookEnvSchema = z.object({
  PAYMENT_WEBHOOK_URL: z.preprocess((v) => (v === '' ? undefined : v), z.url().optional()),
  PAYMENT_WEBHOOK_SECRET: z.string().min(1).default(DEFAULT_WEBHOOK_SECRET),
});

runProcess('payment', async (logger) => {
  const config = loadConfig();
  const webhook = webhookEnvSchema.safeParse(process.env);
  if (!webhook.success) {
    throw new Error(`Invalid payment webhook settings: ${webhook.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}. Fix PAYMENT_WEBHOOK_URL / PAYMENT_WEBHOOK_SECRET and start again.`);
  }
  return startPaymentService({
    databaseUrl: config.PAYMENT_DATABASE_URL,
    port: config.PAYMENT_PORT,
    host: config.HTTP_HOST,
    logger,
    webhookUrl: webhook.data.PAYMENT_WEBHOOK_URL,
    webhookSecret: webhook.data.PAYMENT_WEBHOOK_SECRET,
  });
});
