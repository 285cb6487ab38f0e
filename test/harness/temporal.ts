import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DataConverter } from '@temporalio/common';
import { loadConfig } from '../../common/config';
import { orderSearchAttributes } from '../../common/search-attributes';
import { temporalDataConverter, temporalPayloadCodec } from '../../common/temporal-connection';

/** The codec's settings tests use: the configuration's (dev key unless TEMPORAL_CODEC_KEYS is set). */
const codecConfig = () => loadConfig(process.env);
/** The data converter of our clients and workers, for test clients, workers and the replayer. */
export const testDataConverter = (): DataConverter => temporalDataConverter(codecConfig());
export const testPayloadCodec = () => temporalPayloadCodec(codecConfig());

/**
 * Time-skipping test environment on Temporal's Java test server. By default the binary that
 * tools/ensure-tools.sh fetched from Maven Central (TEMPORAL_TEST_SERVER_BIN); with the variable
 * unset or set to "download", the SDK downloads its own, as it does for users with internet.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const bin = process.env.TEMPORAL_TEST_SERVER_BIN;
  const create = () => !bin || bin === 'download'
    ? TestWorkflowEnvironment.createTimeSkipping({ client: { dataConverter: testDataConverter() } })
    : TestWorkflowEnvironment.createTimeSkipping({ client: { dataConverter: testDataConverter() }, server: { executable: { type: 'existing-path', path: bin } } });
  // The SDK gives the (Java) test server a fixed 5 s to answer; on a busy 2-core machine its start
  // can take longer. That start is killed and reported; try again a few times before giving up.
  let env: TestWorkflowEnvironment | undefined;
  for (let attempt = 1; !env; attempt += 1) {
    try {
      env = await create();
    } catch (err) {
      if (attempt >= 4 || !/did not start within/.test((err as Error).message)) throw err;
    }
  }
  // The order workflow upserts its custom search attributes; the test server must know them.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(orderSearchAttributes.map((key) => [key.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
  });
  return env;
}

/** Address of the real Temporal dev server that `npm test` started (for end-to-end tests). */
export function devServerAddress(): string {
  const address = process.env.TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEST_TEMPORAL_ADDRESS is not set: run the tests with `npm test`.');
  return address;
}
