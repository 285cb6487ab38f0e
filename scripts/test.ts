import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beginRun, ensureTools, freePort, killRunProcesses, spawnTracked, startNats, startPostgres, startTemporalDevServer, stopChild, type StartedService } from './infra';
import { startAll } from './infra/start-all';
import { devNatsAuthorization } from '../common/nats-server-config';
import { TEST_NATS_SCOPE } from '../common/nats-users';

/**
 * `npm test`: starts real Postgres, NATS (JetStream) and a Temporal dev server on free ports,
 * points the tests at them through TEST_* variables, runs Jest, stops everything. NATS has our
 * users (common/nats-users.ts) with their dev passwords, for any test's `TEST_*` stream and
 * `test.*` prefix; the tests set the streams up as the admin user and run each process as its own.
 * Already-running ones can be used instead by setting TEST_PG_URL, TEST_NATS_URL or
 * TEST_TEMPORAL_ADDRESS. Time-skipping workflow tests use Temporal's Java test server from
 * TEMPORAL_TEST_SERVER_BIN (fetched from Maven Central by tools/ensure-tools.sh); set
 * TEMPORAL_TEST_SERVER_BIN=download to let the SDK download its own instead.
 * Jest arguments pass through: `npm test -- test/unit`. Results go to test-results.json (TEST_RESULTS_FILE).
 * However the run ends (success, a failed start, Ctrl-C, SIGTERM), nothing it started is left.
 */
const repo = join(__dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'orders-test-'));
const started: StartedService[] = [];
let jest: ReturnType<typeof spawnTracked> | undefined;
let stopping = false;

async function main(): Promise<number> {
  const tools = await ensureTools([
    ...(process.env.TEST_TEMPORAL_ADDRESS ? [] : ['temporal' as const]),
    'nats' as const, // also for tests that stop and restart a server of their own
    ...(process.env.TEMPORAL_TEST_SERVER_BIN ? [] : ['test-server' as const]),
  ]);
  const env: Record<string, string> = {
    TEMPORAL_TEST_SERVER_BIN: process.env.TEMPORAL_TEST_SERVER_BIN ?? tools.TEMPORAL_TEST_SERVER_BIN!,
    TEST_NATS_SERVER_BIN: tools.NATS_SERVER_BIN!,
  };
  const [pg, nats, temporal] = await startAll(started, [
    process.env.TEST_PG_URL ? null : async () => startPostgres({ dir: join(work, 'postgres'), port: await freePort(), persistent: false }),
    process.env.TEST_NATS_URL ? null : async () => startNats({ bin: tools.NATS_SERVER_BIN!, dir: join(work, 'nats'), port: await freePort(), logFile: join(work, 'nats.log'), authorization: devNatsAuthorization(TEST_NATS_SCOPE) }),
    process.env.TEST_TEMPORAL_ADDRESS ? null : async () => startTemporalDevServer({ bin: tools.TEMPORAL_CLI_BIN!, port: await freePort(), logFile: join(work, 'temporal.log') }),
  ]);
  env.TEST_PG_URL = process.env.TEST_PG_URL ?? (pg as Awaited<ReturnType<typeof startPostgres>>).adminUrl;
  env.TEST_NATS_URL = process.env.TEST_NATS_URL ?? nats!.url;
  env.TEST_TEMPORAL_ADDRESS = process.env.TEST_TEMPORAL_ADDRESS ?? temporal!.url;
  console.log(`[test] postgres ${env.TEST_PG_URL}\n[test] nats ${env.TEST_NATS_URL}\n[test] temporal ${env.TEST_TEMPORAL_ADDRESS}\n[test] logs in ${work}`);

  const resultsFile = process.env.TEST_RESULTS_FILE ?? join(repo, 'test-results.json');
  const jestArgs = process.argv.slice(2);
  // With no selection: everything else on two workers first, then the whole-system tests (each
  // starts every process of ours, or a chaos run) one at a time, so they do not starve the rest.
  const phases = jestArgs.length ? [jestArgs] : [['--testPathIgnorePatterns', '/test/system/'], ['--runInBand', 'test/system']];
  const results: JestResults[] = [];
  let code = 0;
  for (const [i, args] of phases.entries()) {
    const file = phases.length === 1 ? resultsFile : `${resultsFile}.phase${i + 1}`;
    code = Math.max(code, await runJest([...args, '--json', `--outputFile=${file}`], env));
    try {
      results.push(JSON.parse(readFileSync(file, 'utf8')) as JestResults);
      if (file !== resultsFile) rmSync(file);
    } catch {
      console.log(`[test] Jest wrote no results file (${args.join(' ')})`);
      code = Math.max(code, 1);
    }
    if (stopping) break;
  }
  if (results.length) {
    const merged = mergeResults(results);
    writeFileSync(resultsFile, JSON.stringify(merged));
    console.log(`${merged.numPassedTests} passed, ${merged.numFailedTests + merged.numRuntimeErrorTestSuites} failed`);
  }
  return code;
}

interface JestResults {
  numPassedTests: number; numFailedTests: number; numTotalTests: number; numRuntimeErrorTestSuites: number;
  numTotalTestSuites: number; numFailedTestSuites: number; success: boolean; testResults: unknown[];
}

function mergeResults(all: JestResults[]): JestResults {
  const sum = (k: keyof JestResults) => all.reduce((n, r) => n + (r[k] as number), 0);
  return {
    numPassedTests: sum('numPassedTests'), numFailedTests: sum('numFailedTests'), numTotalTests: sum('numTotalTests'),
    numRuntimeErrorTestSuites: sum('numRuntimeErrorTestSuites'), numTotalTestSuites: sum('numTotalTestSuites'),
    numFailedTestSuites: sum('numFailedTestSuites'), success: all.every((r) => r.success), testResults: all.flatMap((r) => r.testResults),
  };
}

async function runJest(args: string[], env: Record<string, string>): Promise<number> {
  jest = spawnTracked(process.execPath, [require.resolve('jest/bin/jest'), ...args], { cwd: repo, stdio: 'inherit', env: { ...process.env, ...env } });
  const code = await new Promise<number>((resolve) => jest!.on('exit', (c) => resolve(c ?? 1)));
  jest = undefined;
  return code;
}

async function shutdown(code: number): Promise<never> {
  if (stopping) return new Promise<never>(() => undefined);
  stopping = true;
  if (jest) await stopChild(jest, 10_000);
  await Promise.allSettled(started.reverse().map((s) => s.stop()));
  const orphans = killRunProcesses();
  if (orphans.length) console.error(`[test] killed ${orphans.length} process(es) the run left behind: ${orphans.join(', ')}`);
  if (!process.env.KEEP_TEST_DATA) rmSync(work, { recursive: true, force: true });
  process.exit(code);
}

beginRun();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    console.error(`[test] ${signal}: stopping`);
    void shutdown(130);
  });
}
main().then((code) => shutdown(code), (err: unknown) => {
  console.error(`[test] ${(err as Error).stack ?? err}`);
  return shutdown(1);
});
