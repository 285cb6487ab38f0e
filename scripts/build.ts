import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../common/temporal-connection';
import { PREBUILT_WORKFLOW_BUNDLES, workflowInterceptorModules } from '../workers/workflow-bundle';

/**
 * `npm run build`: the production build in dist/, run with plain `node` (no tsx at run time).
 * Compiles the TypeScript, copies the SQL the services and the migrator read and the browser pages
 * (api/operator-page) the API serves at run time, and
 * bundles the workflow code ahead of time so the production worker does not run webpack at start.
 */
const repo = join(__dirname, '..');
const dist = join(repo, 'dist');

async function main() {
  rmSync(dist, { recursive: true, force: true });
  console.log('[build] tsc -p tsconfig.build.json');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(repo, 'tsconfig.build.json')], { cwd: repo, stdio: 'inherit' });

  for (const service of readdirSync(join(repo, 'services'))) {
    const sql = join('services', service, 'schema.sql');
    if (existsSync(join(repo, sql))) cpSync(join(repo, sql), join(dist, sql));
  }
  cpSync(join(repo, 'prisma/migrations'), join(dist, 'prisma/migrations'), { recursive: true });
  cpSync(join(repo, 'api/operator-page'), join(dist, 'api/operator-page'), { recursive: true }); // the browser pages' HTML, script, CSS

  // Two bundles, without and with OpenTelemetry's workflow interceptors (workers/workflow-bundle.ts):
  // the worker loads the one for its tracing setting. Each carries the failure converter the
  // worker's data converter names (encrypted failure messages) and our correlation interceptor.
  for (const [variant, file] of Object.entries(PREBUILT_WORKFLOW_BUNDLES)) {
    console.log(`[build] bundling the workflow code (${variant})`);
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../workflows'), failureConverterPath: FAILURE_CONVERTER_PATH,
      workflowInterceptorModules: workflowInterceptorModules(variant === 'traced'), logger: quietBundlerLogger,
    });
    const bundleFile = join(dist, file);
    mkdirSync(join(bundleFile, '..'), { recursive: true });
    writeFileSync(bundleFile, code);
    console.log(`[build] ${file}: ${(code.length / 1024).toFixed(0)} KiB`);
  }
  console.log('[build] done: dist/');
}

const quietBundlerLogger = {
  log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined,
  warn: (message: string) => console.warn(`[build] ${message}`),
  error: (message: string) => console.error(`[build] ${message}`),
};

main().catch((err: unknown) => {
  console.error(`[build] failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
