import type { WorkerOptions } from '@temporalio/worker';
import type { Config } from '../common/config';

/**
 * The worker's capacity settings (TEMPORAL_WORKER_* in common/config.ts, validated there) as the
 * options of @temporalio/worker 1.24. Pollers are given as the simple-maximum poller behaviour,
 * which is what maxConcurrentWorkflowTaskPolls / maxConcurrentActivityTaskPolls stand for.
 */
export type WorkerTuning = Pick<WorkerOptions,
  | 'maxCachedWorkflows' | 'maxConcurrentWorkflowTaskExecutions' | 'maxConcurrentActivityTaskExecutions'
  | 'maxConcurrentLocalActivityExecutions' | 'workflowTaskPollerBehavior' | 'activityTaskPollerBehavior'
  | 'maxEagerActivityReservationsPerWorkflowTask' | 'reuseV8Context'>;

export function workerTuning(config: Pick<Config,
  | 'TEMPORAL_WORKER_MAX_CACHED_WORKFLOWS' | 'TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS' | 'TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES'
  | 'TEMPORAL_WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES' | 'TEMPORAL_WORKER_WORKFLOW_TASK_POLLERS' | 'TEMPORAL_WORKER_ACTIVITY_TASK_POLLERS'
  | 'TEMPORAL_WORKER_MAX_EAGER_ACTIVITIES' | 'TEMPORAL_WORKER_REUSE_V8_CONTEXT'>): WorkerTuning {
  return {
    maxCachedWorkflows: config.TEMPORAL_WORKER_MAX_CACHED_WORKFLOWS,
    maxConcurrentWorkflowTaskExecutions: config.TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxConcurrentActivityTaskExecutions: config.TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentLocalActivityExecutions: config.TEMPORAL_WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES,
    workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: config.TEMPORAL_WORKER_WORKFLOW_TASK_POLLERS },
    activityTaskPollerBehavior: { type: 'simple-maximum', maximum: config.TEMPORAL_WORKER_ACTIVITY_TASK_POLLERS },
    maxEagerActivityReservationsPerWorkflowTask: config.TEMPORAL_WORKER_MAX_EAGER_ACTIVITIES,
    reuseV8Context: config.TEMPORAL_WORKER_REUSE_V8_CONTEXT,
  };
}
