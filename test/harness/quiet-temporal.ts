import { DefaultLogger, Runtime } from '@temporalio/worker';

// Jest setup file: keep the Temporal worker's own logs to warnings and errors in test output.
try {
  Runtime.install({ logger: new DefaultLogger((process.env.TEST_TEMPORAL_LOG_LEVEL as 'WARN' | undefined) ?? 'WARN') });
} catch {
  // Already installed in this Jest worker process by an earlier test file.
}
