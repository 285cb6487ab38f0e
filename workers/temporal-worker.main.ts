import { loadConfig } from '../common/config';
import { runProcess } from '../common/run-process';
import { startTemporalWorker } from './temporal-worker';

runProcess('temporal-worker', (logger) => startTemporalWorker(loadConfig(), logger));
