/**
 * The no-op baselines: a workflow of the order saga's shape doing nothing, run by a bench-only
 * worker (noop-worker.main.ts) on its own task queue of the same Temporal server. Names shared by
 * the workflow bundle, the worker and the benchmark; no runtime imports.
 */
export const NOOP_TASK_QUEUE = 'orders-bench-noop';

export const NOOP_WORKFLOWS = {
  /** 9 sequential regular activities, the saga's happy path. */
  regular: 'orderShapedNoopWorkflow',
  /** The same 9 steps as local activities. */
  local: 'orderShapedNoopLocalWorkflow',
} as const;
export type NoopKind = keyof typeof NOOP_WORKFLOWS;

export interface NoopActivities {
  /** Does nothing; returns the step's name, as small as the saga's answers. */
  noop(step: string): Promise<string>;
}

export const noopActivities: NoopActivities = {
  async noop(step) {
    return step;
  },
};
