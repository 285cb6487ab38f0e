import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { REPO_ROOT, spawnLogged } from '../../infra';
import type { Sample, Work } from './load';
import { NOOP_TASK_QUEUE, NOOP_WORKFLOWS, type NoopKind } from './noop';

/** The no-op baselines: the bench-only worker as its own process, and one workflow as a unit of work. */

export interface NoopWorker { pid: number | undefined; stop(): Promise<void> }

/** `settings`: what our processes were given (--env), so the baseline's worker is tuned as ours. */
export function startNoopWorker(temporalAddress: string, namespace: string, logFile: string, settings: Record<string, string> = {}): NoopWorker {
  const proc = spawnLogged(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/bench/orders/noop-worker.main.ts')], logFile, {
    cwd: REPO_ROOT, env: { ...process.env, ...settings, TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_NAMESPACE: namespace },
  });
  return { pid: proc.child.pid, stop: proc.stop };
}

/** One no-op workflow: start it, then wait for its result. */
export function noopWork(client: Client, kind: NoopKind, timeoutMs: number): Work {
  return async (): Promise<Sample> => {
    const workflowId = `bench-noop-${kind}-${randomUUID()}`;
    const sent = performance.now();
    const handle = await client.workflow.start(NOOP_WORKFLOWS[kind], { taskQueue: NOOP_TASK_QUEUE, workflowId, args: [], workflowRunTimeout: timeoutMs });
    const requestMs = performance.now() - sent;
    await handle.result();
    return { requestMs, totalMs: performance.now() - sent, outcome: 'completed', workflowId };
  };
}

/** Waits until the bench worker runs a workflow of each kind (it bundles its workflow code first). */
export async function waitForNoopWorker(client: Client, timeoutMs = 180_000): Promise<void> {
  for (const kind of Object.keys(NOOP_WORKFLOWS) as NoopKind[]) {
    const handle = await client.workflow.start(NOOP_WORKFLOWS[kind], { taskQueue: NOOP_TASK_QUEUE, workflowId: `bench-noop-ready-${randomUUID()}`, args: [], workflowRunTimeout: timeoutMs });
    await handle.result();
  }
}

/** Events in the histories of a sample of the run's workflows, on average (read after the run, so not measured). */
export async function historyEventsPerWorkflow(client: Client, workflowIds: string[], sampleSize: number): Promise<number | undefined> {
  if (!workflowIds.length || sampleSize <= 0) return undefined;
  const step = Math.max(1, Math.floor(workflowIds.length / sampleSize));
  const picked = workflowIds.filter((_, i) => i % step === 0).slice(0, sampleSize);
  const counts = await Promise.all(picked.map(async (id) => (await client.workflow.getHandle(id).fetchHistory()).events?.length ?? 0));
  return counts.reduce((a, b) => a + b, 0) / counts.length;
}
