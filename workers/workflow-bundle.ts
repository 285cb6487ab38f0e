import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';

/**
 * The workflow interceptor modules, in the bundle the SDK makes at start-up (dev, tests, replay)
 * and in the prebuilt one (scripts/build.ts): OpenTelemetry's (workflow and activity-scheduling
 * spans, trace context to the activities) and ours (the correlation id to the activities).
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
  require.resolve('../common/correlation-workflow-interceptors'),
];

/** Where `npm run build` writes the ahead-of-time workflow bundle, relative to dist/. */
export const PREBUILT_WORKFLOW_BUNDLE = 'workflows/workflow-bundle.js';

/**
 * The workflow code for Worker.create: the prebuilt bundle when running the compiled build
 * (production), else the source, which the SDK bundles at start-up (dev and tests).
 */
export function workflowCodeOptions(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const compiled = __filename.endsWith('.js');
  if (!compiled) return { workflowsPath: require.resolve('../workflows') };
  const codePath = join(__dirname, '..', PREBUILT_WORKFLOW_BUNDLE);
  if (!existsSync(codePath)) {
    throw new Error(`The prebuilt workflow bundle ${codePath} is missing. Run \`npm run build\` (it writes dist/ including the bundle) and start the worker again.`);
  }
  return { workflowBundle: { codePath } };
}
