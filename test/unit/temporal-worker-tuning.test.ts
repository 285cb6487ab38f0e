import { loadConfig } from '../../common/config';
import { workerTuning } from '../../workers/temporal-worker-tuning';

describe('Temporal worker tuning from the environment (pure logic)', () => {
  it('has defaults, and maps each setting onto the worker option of the SDK it names', () => {
    expect(workerTuning(loadConfig({}))).toEqual({
      maxCachedWorkflows: 1000, maxConcurrentWorkflowTaskExecutions: 40, maxConcurrentActivityTaskExecutions: 100,
      maxConcurrentLocalActivityExecutions: 100, maxEagerActivityReservationsPerWorkflowTask: 3, reuseV8Context: true,
      workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 10 }, activityTaskPollerBehavior: { type: 'simple-maximum', maximum: 10 },
    });
    const tuned = workerTuning(loadConfig({
      TEMPORAL_WORKER_MAX_CACHED_WORKFLOWS: '0', TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '8', TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES: '20',
      TEMPORAL_WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: '30', TEMPORAL_WORKER_WORKFLOW_TASK_POLLERS: '4', TEMPORAL_WORKER_ACTIVITY_TASK_POLLERS: '2',
      TEMPORAL_WORKER_MAX_EAGER_ACTIVITIES: '0', TEMPORAL_WORKER_REUSE_V8_CONTEXT: 'false',
    }));
    expect(tuned).toEqual({
      maxCachedWorkflows: 0, maxConcurrentWorkflowTaskExecutions: 8, maxConcurrentActivityTaskExecutions: 20,
      maxConcurrentLocalActivityExecutions: 30, maxEagerActivityReservationsPerWorkflowTask: 0, reuseV8Context: false,
      workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 4 }, activityTaskPollerBehavior: { type: 'simple-maximum', maximum: 2 },
    });
  });

  it('refuses values the SDK would refuse at start, naming each variable', () => {
    expect(() => loadConfig({ TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '1' })).toThrow(/TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS/);
    expect(() => loadConfig({ TEMPORAL_WORKER_WORKFLOW_TASK_POLLERS: '1' })).toThrow(/TEMPORAL_WORKER_WORKFLOW_TASK_POLLERS/);
    expect(() => loadConfig({ TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES: '0' })).toThrow(/TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES/);
    expect(() => loadConfig({ TEMPORAL_WORKER_MAX_EAGER_ACTIVITIES: '-1' })).toThrow(/TEMPORAL_WORKER_MAX_EAGER_ACTIVITIES/);
    expect(() => loadConfig({ TEMPORAL_WORKER_MAX_CACHED_WORKFLOWS: 'many' })).toThrow(/TEMPORAL_WORKER_MAX_CACHED_WORKFLOWS/);
    expect(() => loadConfig({ TEMPORAL_WORKER_REUSE_V8_CONTEXT: 'maybe' })).toThrow(/TEMPORAL_WORKER_REUSE_V8_CONTEXT/);
  });

  it('refuses more pollers than task slots, saying which to change', () => {
    expect(() => loadConfig({ TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '4' }))
      .toThrow(/TEMPORAL_WORKER_WORKFLOW_TASK_POLLERS: 10 is more than TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS \(4\); lower it or raise that/);
    expect(() => loadConfig({ TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES: '5', TEMPORAL_WORKER_ACTIVITY_TASK_POLLERS: '6' }))
      .toThrow(/TEMPORAL_WORKER_ACTIVITY_TASK_POLLERS: 6 is more than TEMPORAL_WORKER_MAX_CONCURRENT_ACTIVITIES \(5\)/);
    expect(() => loadConfig({ TEMPORAL_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '4', TEMPORAL_WORKER_WORKFLOW_TASK_POLLERS: '4' })).not.toThrow();
  });
});
