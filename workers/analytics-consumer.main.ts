import { loadConfig } from '../common/config';
import { runProcess } from '../common/run-process';
import { startAnalyticsConsumer } from './analytics-consumer';

runProcess('analytics-consumer', (logger) => startAnalyticsConsumer(loadConfig(), logger));
