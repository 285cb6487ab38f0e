import { Runtime } from '@temporalio/worker';
import { loadConfig } from '../common/config';
import { runProcess } from '../common/run-process';
import { temporalSdkLogger } from './temporal-sdk-logger';
import { startTemporalWorker } from './temporal-worker';

runProcess('temporal-worker', (logger) => {
  const config = loadConfig();
  Runtime.install({
    logger: temporalSdkLogger(logger),
    // The SDK's own metrics (task slots, schedule-to-start latencies, poll and activity outcomes) for Prometheus.
    ...(config.TEMPORAL_METRICS_PORT === undefined ? {} : {
      telemetryOptions: { metrics: { prometheus: { bindAddress: `${config.HTTP_HOST}:${config.TEMPORAL_METRICS_PORT}`, countersTotalSuffix: true, useSecondsForDurations: true } } },
    }),
  });
  if (config.TEMPORAL_METRICS_PORT !== undefined) logger.info({ url: `http://${config.HTTP_HOST}:${config.TEMPORAL_METRICS_PORT}/metrics` }, 'Temporal SDK metrics');
  return startTemporalWorker(config, logger);
});
