import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { InventoryClient } from '../common/clients/inventory-client';
import { PaymentClient } from '../common/clients/payment-client';
import type { Config } from '../common/config';
import { createDb, dbTimeouts } from '../common/db';
import type { Logger } from '../common/logger';
import { createProcessRegistry, startMetricsServer } from '../common/metrics-server';
import { temporalDataConverter } from '../common/temporal-connection';
import type { RunningProcess } from '../common/run-process';
import { workerTuning } from './temporal-worker-tuning';
import { workflowCodeOptions } from './workflow-bundle';

export const WORKFLOWS_PATH = require.resolve('../workflows');

/** The Temporal worker process: runs the order workflow and its activities on our task queue. */
export async function startTemporalWorker(config: Config, logger: Logger): Promise<RunningProcess> {
  const db = createDb(config.DATABASE_URL, dbTimeouts(config), config.DATABASE_POOL_MAX);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    ...workflowCodeOptions(),
    ...workerTuning(config),
    dataConverter: temporalDataConverter(config),
    activities: createActivities({
      db,
      inventory: new InventoryClient(config.INVENTORY_URL, config.INVENTORY_TOKEN, config.HTTP_CLIENT_TIMEOUT_MS),
      payment: new PaymentClient(config.PAYMENT_URL, config.PAYMENT_TOKEN, config.HTTP_CLIENT_TIMEOUT_MS),
    }),
  });
  const metricsServer = config.METRICS_PORT === undefined ? undefined : await startMetricsServer(createProcessRegistry('worker'), config.METRICS_PORT, config.HTTP_HOST);
  const running = worker.run();
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, address: config.TEMPORAL_ADDRESS, tuning: workerTuning(config) }, 'temporal worker running');
  return {
    async stop() {
      // The SDK's runtime also reacts to SIGTERM/SIGINT and may have begun shutting the worker down.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await metricsServer?.stop();
      await connection.close();
      await db.$disconnect();
    },
  };
}
