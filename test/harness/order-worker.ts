import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import { WORKFLOWS_PATH } from '../../workers/temporal-worker';
import type { Peers } from './system';
import { testDataConverter } from './temporal';

/** The saga's real activities over the test peers' clients and the order database; `over` swaps a dependency (e.g. a client with a short timeout). */
export function peerActivities(peers: Peers, over: Partial<ActivityDeps> = {}) {
  return createActivities({ pool: peers.pool, inventory: peers.inventory, payment: peers.payment, ...over });
}

/**
 * A worker of the order workflow (from source) on `taskQueue` of the time-skipping environment,
 * with the real activities over the test peers; `options`: e.g. the tracing interceptors and sinks.
 * Stop it with `worker.shutdown()` and await `running`.
 */
export async function startOrderWorker(
  env: TestWorkflowEnvironment, peers: Peers, taskQueue: string, options: Pick<WorkerOptions, 'interceptors' | 'sinks'> = {},
): Promise<{ worker: Worker; running: Promise<void> }> {
  const worker = await Worker.create({
    connection: env.nativeConnection, taskQueue, workflowsPath: WORKFLOWS_PATH, dataConverter: testDataConverter(),
    activities: peerActivities(peers), ...options,
  });
  return { worker, running: worker.run() };
}
