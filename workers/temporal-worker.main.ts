import { Runtime } from '@temporalio/worker';
import { loadConfig } from '../common/config';
import { runProcess } from '../common/run-process';
import { temporalSdkLogger } from './temporal-sdk-logger';
import { startTemporalWorker } from './temporal-worker';

runProcess('temporal-worker', (logger) => {
  Runtime.install({ logger: temporalSdkLogger(logger) });
  return startTemporalWorker(loadConfig(), logger);
});
