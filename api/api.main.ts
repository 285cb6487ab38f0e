import { loadConfig } from '../common/config';
import { runProcess } from '../common/run-process';
import { startApi } from './server';

runProcess('api', (logger) => startApi(loadConfig(), logger));
