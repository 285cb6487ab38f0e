import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';

const TRACING_MODULE = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');
const CORRELATION_MODULE = require.resolve('../common/correlation-workflow-interceptors');

/**
 * The workflow interceptor modules, in the bundle the SDK makes at start-up (dev, tests, replay)
 * and in the prebuilt ones (scripts/build.ts): ours (the correlation id to the activities) and,
 * with tracing on, OpenTelemetry's (workflow and activity-scheduling spans, trace context to the
 * activities). With tracing off OpenTelemetry's are left out: they would make spans nobody
 * exports on every activation, a fifth of the worker's CPU per order. Interceptors add headers,
 * never commands, so histories replay the same with or without them.
 */
export function workflowInterceptorModules(tracing: boolean): string[] {
  return tracing ? [TRACING_MODULE, CORRELATION_MODULE] : [CORRELATION_MODULE];
}

/** Where `npm run build` writes the ahead-of-time workflow bundles, relative to dist/: without and with tracing. */
export const PREBUILT_WORKFLOW_BUNDLES = { untraced: 'workflows/workflow-bundle.js', traced: 'workflows/workflow-bundle-traced.js' } as const;

/**
 * The workflow code for Worker.create: the prebuilt bundle for `tracing` when running the compiled
 * build (production), else the source, which the SDK bundles at start-up (dev and tests) with
 * `workflowInterceptorModules(tracing)` (worker option interceptors.workflowModules).
 */
export function workflowCodeOptions(tracing: boolean): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const compiled = __filename.endsWith('.js');
  if (!compiled) return { workflowsPath: require.resolve('../workflows') };
  const codePath = join(__dirname, '..', PREBUILT_WORKFLOW_BUNDLES[tracing ? 'traced' : 'untraced']);
  if (!existsSync(codePath)) {
    throw new Error(`The prebuilt workflow bundle ${codePath} is missing. Run \`npm run build\` (it writes dist/ including the bundles) and start the worker again.`);
  }
  return { workflowBundle: { codePath } };
}
