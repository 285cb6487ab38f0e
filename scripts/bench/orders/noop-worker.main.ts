import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from '../../../common/config';
import { runProcess } from '../../../common/run-process';
import { workerTuning } from '../../../workers/temporal-worker-tuning';
import { NOOP_TASK_QUEUE, noopActivities } from './noop';

/** The bench-only worker of the no-op baselines: its own process and task queue, tuned as our worker is (TEMPORAL_WORKER_*). */
runProcess('bench-noop-worker', async (logger) => {
  const config = loadConfig();
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection, namespace: config.TEMPORAL_NAMESPACE, taskQueue: NOOP_TASK_QUEUE,
    workflowsPath: require.resolve('./noop-workflow'), activities: noopActivities,
    ...workerTuning(config),
  });
  const running = worker.run();
  logger.info({ taskQueue: NOOP_TASK_QUEUE }, 'bench no-op worker running');
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
});
