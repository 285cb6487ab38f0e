import { loadConfig } from '../../common/config';
import { runProcess } from '../../common/run-process';
import { startInventoryService } from './server';

runProcess('inventory', async (logger) => {
  const config = loadConfig();
  return startInventoryService({
    databaseUrl: config.INVENTORY_DATABASE_URL, port: config.INVENTORY_PORT, host: config.HTTP_HOST, logger,
    seedSampleCatalog: config.INVENTORY_SEED_SAMPLE_CATALOG,
    callers: config.INVENTORY_CALLER_TOKENS, testMode: config.SERVICE_TEST_MODE,
    databaseConnectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT, databaseStatementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT,
  });
});
