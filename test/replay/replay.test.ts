import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH, workflowSpanSinks } from '../../workers/temporal-worker';
import { workflowInterceptorModules } from '../../workers/workflow-bundle';
import { HISTORIES_DIR } from '../harness/histories';
import { testDataConverter } from '../harness/temporal';

/**
 * Replays recorded histories of every saga path against the current workflow code. A change
 * that would break executions already running (or recorded) fails here with a determinism error:
 * guard it with `patched()` (see README, "Changing the workflow safely"). The replayer has our
 * payload codec, as the worker does: recorded histories are unencrypted and pass through it.
 */
const PATHS = [
  'happy-path', 'out-of-stock', 'payment-declined', 'payment-confirmed', 'payment-confirmation-timeout',
  'payment-confirmation-failed', 'customer-cancel-before-capture', 'customer-cancel-after-capture',
  'customer-cancel-refused', 'transient-fault-retried', 'compensation-failed',
  // Recorded after the operator-cancel, point-of-no-return, bounded-state-recording and safe-reason changes.
  'operator-cancel-awaiting-confirmation', 'operator-cancel-during-capture', 'operator-cancel-ignored-after-commit-started',
  'commit-stock-retried-to-the-end', 'commit-stock-failed-for-good', 'state-not-recorded-after-commit', 'state-not-recorded-undone',
  'processing-failed-safe-reason',
  // Recorded after the email and card token moved out of the workflow input into the order vault.
  'happy-path-order-vault',
  // Recorded after the local-first change (local activities, OrderStatus upserted only when it changes).
  'happy-path-local-first', 'payment-declined-local-first', 'payment-confirmed-local-first', 'customer-cancel-after-capture-local-first',
  'customer-cancel-before-payment-local-first', 'transient-fault-retried-local-first', 'state-not-recorded-undone-local-first',
  'processing-failed-safe-reason-local-first',
  // Recorded after the fused-step-records change (each forward step's local attempt records its own move).
  'happy-path-fused-records', 'payment-declined-fused-records', 'payment-confirmed-fused-records', 'customer-cancel-after-capture-fused-records',
  'transient-fault-retried-fused-records', 'state-not-recorded-undone-fused-records', 'processing-failed-safe-reason-fused-records',
  'step-record-not-written-fused-records', 'out-of-stock-fused-records', 'payment-confirmation-timeout-fused-records',
  'compensation-failed-fused-records', 'operator-cancel-awaiting-confirmation-fused-records', 'operator-cancel-during-capture-fused-records',
  'commit-stock-retried-to-the-end-fused-records', 'customer-cancel-before-payment-fused-records',
  // Recorded by a worker with tracing on (OpenTelemetry's workflow interceptors), as orders in flight may have been.
  'traced-payment-confirmed', 'traced-customer-cancel-awaiting-confirmation',
];

describe('workflow replay', () => {
  const files = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')).sort();

  it('has a recorded history for every saga path', () => {
    expect(files.map((f) => f.replace(/\.json$/, '')).sort()).toEqual(expect.arrayContaining([...PATHS].sort()));
  });

  // With the workflow interceptors the worker loads with tracing on and with it off (workers/workflow-bundle.ts):
  // a history must replay whichever worker picks it up.
  it.each([['on', true], ['off', false]])('replays every recorded history against the current code, tracing %s', async (_, tracing) => {
    const histories = files.map((file) => ({
      workflowId: file.replace(/\.json$/, ''),
      history: historyFromJSON(JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8'))),
    }));
    const failures: string[] = [];
    let replayed = 0;
    const options = {
      workflowsPath: WORKFLOWS_PATH, replayName: `order-replay-tracing-${tracing ? 'on' : 'off'}`, dataConverter: testDataConverter(),
      interceptors: { workflowModules: workflowInterceptorModules(tracing) }, sinks: workflowSpanSinks(),
    };
    for await (const result of Worker.runReplayHistories(options, histories)) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(histories.length);
  });
});
