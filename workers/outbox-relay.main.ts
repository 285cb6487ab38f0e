import { loadConfig } from '../common/config';
import { runProcess } from '../common/run-process';
import { startOutboxRelay } from './outbox-relay';

runProcess('outbox-relay', (logger) => startOutboxRelay(loadConfig(), logger));
