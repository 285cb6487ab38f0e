import { TestWorkflowEnvironment } from '@temporalio/testing';

/**
 * Time-skipping test environment on Temporal's Java test server. By default the binary that
 * tools/ensure-tools.sh fetched from Maven Central (TEMPORAL_TEST_SERVER_BIN); with the variable
 * unset or set to "download", the SDK downloads its own, as it does for users with internet.
 */
export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const bin = process.env.TEMPORAL_TEST_SERVER_BIN;
  if (!bin || bin === 'download') return TestWorkflowEnvironment.createTimeSkipping();
  return TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: bin } } });
}

/** Address of the real Temporal dev server that `npm test` started (for end-to-end tests). */
export function devServerAddress(): string {
  const address = process.env.TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEST_TEMPORAL_ADDRESS is not set: run the tests with `npm test`.');
  return address;
}
