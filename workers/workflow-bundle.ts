import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';

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
