import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokenTemporalCli, describeProcesses, leftoversAfter, runScript, type ScriptRun } from '../harness/child-runs';

/**
 * `npm test` (scripts/test.ts) itself: however a run ends, the Postgres, NATS and Temporal it
 * started, and Jest with whatever the tests started, are gone afterwards.
 */
jest.setTimeout(180_000);

const OWN_INFRA = ['TEST_PG_URL', 'TEST_NATS_URL', 'TEST_TEMPORAL_ADDRESS', 'TEMPORAL_TEST_SERVER_BIN'];
const runs: ScriptRun[] = [];
let dir: string;

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'orders-test-runner-')); });
afterAll(() => {
  for (const run of runs) run.kill();
  rmSync(dir, { recursive: true, force: true });
});

function testRun(extraEnv: NodeJS.ProcessEnv = {}): { run: ScriptRun; results: string } {
  const results = join(dir, `results-${runs.length}.json`);
  const run = runScript(['scripts/test.ts', 'test/unit/config.test.ts'], { TEST_RESULTS_FILE: results, ...extraEnv }, OWN_INFRA);
  runs.push(run);
  return { run, results };
}

it('passes and leaves nothing running', async () => {
  const { run, results } = testRun();
  expect(await run.exited).toEqual({ code: 0, signal: null });
  const summary = JSON.parse(readFileSync(results, 'utf8')) as { numPassedTests: number; numFailedTests: number };
  expect(summary.numFailedTests).toBe(0);
  expect(run.output()).toContain(`${summary.numPassedTests} passed, 0 failed`);
  expect(describeProcesses(await leftoversAfter(run))).toBe('');
});

it('stops everything on SIGTERM while the tests run', async () => {
  const { run } = testRun();
  await run.waitForOutput(/\[test\] logs in/, 120_000);
  run.child.kill('SIGTERM');
  const exit = await run.exited;
  expect(exit.code).toBe(130);
  expect(describeProcesses(await leftoversAfter(run))).toBe('');
});

it('stops what it had started when a server fails to start', async () => {
  const { run } = testRun({ TEMPORAL_CLI_BIN: brokenTemporalCli(dir) });
  const exit = await run.exited;
  expect(exit.code).toBe(1);
  expect(run.output()).toMatch(/Temporal dev server exited \(code 3\) before it was ready/);
  expect(describeProcesses(await leftoversAfter(run))).toBe('');
});
