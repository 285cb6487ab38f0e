import { loadConfig } from '../common/config';
import { runProcess } from '../common/run-process';
import { startEmailConsumer } from './email-consumer';

runProcess('email-consumer', (logger) => startEmailConsumer(loadConfig(), logger));
