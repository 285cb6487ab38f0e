import { loadConfig } from '../../common/config';
import { runProcess } from '../../common/run-process';
import { startPaymentService } from './server';

runProcess('payment', async (logger) => {
  const config = loadConfig();
  return startPaymentService({
    databaseUrl: config.PAYMENT_DATABASE_URL,
    port: config.PAYMENT_PORT,
    host: config.HTTP_HOST,
    logger,
    callers: config.PAYMENT_CALLER_TOKENS, testMode: config.SERVICE_TEST_MODE,
    webhookUrl: config.PAYMENT_WEBHOOK_URL,
    webhookSecret: config.PAYMENT_WEBHOOK_SECRET,
    databaseConnectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT, databaseStatementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT,
  });
});
