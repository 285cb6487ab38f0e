import type { Context as ActivityContext } from '@temporalio/activity';
import { makeWorkflowExporter, OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor } from '@temporalio/interceptors-opentelemetry';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { InventoryClient } from '../common/clients/inventory-client';
import { PaymentClient } from '../common/clients/payment-client';
import type { Config } from '../common/config';
import { correlationActivityInterceptor } from '../common/correlation-activity-interceptor';
import { createPool, dbTimeouts } from '../common/pg';
import type { Logger } from '../common/logger';
import { createProcessRegistry, startMetricsServer } from '../common/metrics-server';
import { temporalDataConverter } from '../common/temporal-connection';
import type { RunningProcess } from '../common/run-process';
import { currentTracing, startTracing, type Tracing } from '../common/tracing';
import { workerTuning } from './temporal-worker-tuning';
import { workflowCodeOptions, workflowInterceptorModules } from './workflow-bundle';

export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * The sink the workflow interceptors send workflow spans to, into this process's span processor
 * (a no-op one with tracing off). The replayer needs it too (it is not called during replay).
 */
export function workflowSpanSinks(tracing: Tracing = currentTracing() ?? startTracing({ serviceName: 'worker' })) {
  return { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) };
}

/**
 * Spans of workflows and activities (also local ones), and each activity inside its order's
 * correlation id (outermost first: the activity's span is active when the correlation
 * interceptor runs, so its lines carry the trace id too).
 */
function tracingOptions(logger: Logger, tracing: Tracing, code: ReturnType<typeof workflowCodeOptions>) {
  // With tracing off the activity span interceptors would only make no-op spans on every activity's hot path.
  const activitySpans = tracing.enabled
    ? [(ctx: ActivityContext) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })]
    : [];
  return {
    interceptors: {
      // A prebuilt bundle has them inside already (scripts/build.ts); the SDK warns if they are named again.
      ...(code.workflowBundle ? {} : { workflowModules: workflowInterceptorModules(tracing.enabled) }),
      activity: [...activitySpans, correlationActivityInterceptor(logger)],
    },
    sinks: workflowSpanSinks(tracing),
  };
}

/** The Temporal worker process: runs the order workflow and its activities on our task queue. */
export async function startTemporalWorker(config: Config, logger: Logger): Promise<RunningProcess> {
  const pool = createPool(config.DATABASE_URL, dbTimeouts(config), config.DATABASE_POOL_MAX, (err) => logger.error({ err }, 'idle worker database connection failed; it will be replaced'));
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const tracing = currentTracing() ?? startTracing({ serviceName: 'worker' });
  const code = workflowCodeOptions(tracing.enabled);
  const tuning = workerTuning(config);
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    ...code,
    ...tuning,
    dataConverter: temporalDataConverter(config),
    ...tracingOptions(logger, tracing, code),
    activities: createActivities({
      pool,
      inventory: new InventoryClient(config.INVENTORY_URL, config.INVENTORY_TOKEN, config.HTTP_CLIENT_TIMEOUT_MS),
      payment: new PaymentClient(config.PAYMENT_URL, config.PAYMENT_TOKEN, config.HTTP_CLIENT_TIMEOUT_MS),
    }),
  });
  const metricsServer = config.METRICS_PORT === undefined ? undefined : await startMetricsServer(createProcessRegistry('worker'), config.METRICS_PORT, config.HTTP_HOST);
  const running = worker.run();
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE, address: config.TEMPORAL_ADDRESS, tuning }, 'temporal worker running');
  return {
    async stop() {
      // The SDK's runtime also reacts to SIGTERM/SIGINT and may have begun shutting the worker down.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await metricsServer?.stop();
      await connection.close();
      await pool.end();
    },
  };
}
