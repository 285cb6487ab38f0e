import { DefaultLogger, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../common/logger';

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const satisfies Record<LogLevel, string>;
const SDK_LEVEL: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'ERROR' };

/**
 * The Temporal SDK's logger for the worker process (its own lines, workflow and activity logs)
 * written through our pino logger, so its lines are JSON like ours and go through the same
 * redaction (common/logger.ts) instead of the SDK's plain console output.
 */
export function temporalSdkLogger(logger: Logger): DefaultLogger {
  return new DefaultLogger(SDK_LEVEL[logger.level] ?? 'INFO', (entry) => {
    logger[PINO_LEVEL[entry.level]]({ temporal: true, ...entry.meta }, entry.message);
  });
}
