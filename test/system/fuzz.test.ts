import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TargetResult } from '../../scripts/fuzz/schemathesis';
import { describeProcesses, leftoversAfter, runScript, type ScriptRun } from '../harness/child-runs';

/**
 * `npm run fuzz` at CI size: schemathesis with --checks all against the OpenAPI document of
 * every service in scripts/fuzz/targets.ts, on the system as `npm run dev` starts it, with few
 * examples per operation and a wall-clock cap. No server error and no conformance failure on
 * any service that serves a document; the API and both peers must serve one. The full run is `npm run fuzz`.
 */
jest.setTimeout(1_200_000);

const EXTERNAL = ['DATABASE_URL', 'NATS_URL', 'TEMPORAL_ADDRESS', 'SMTP_URL', 'PAYMENT_WEBHOOK_URL'];
let run: ScriptRun | undefined;
let dir: string;

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'orders-fuzz-test-')); });
afterAll(() => {
  run?.kill();
  rmSync(dir, { recursive: true, force: true });
});

it('finds no server error and no conformance failure in any service\'s OpenAPI document', async () => {
  const json = join(dir, 'fuzz.json');
  run = runScript(['scripts/fuzz', '--max-examples', '8', '--cap-seconds', '300', '--seed', '4242', '--json', json], {}, EXTERNAL);
  const exit = await run.exited;
  const report = JSON.parse(readFileSync(json, 'utf8')) as { results: TargetResult[] };
  const failed = report.results.filter((r) => r.outcome === 'failed');
  expect(failed.map((r) => `${r.name}: ${r.failures} failures, ${r.errors} errors (${r.note})\n${run!.output().slice(-6000)}`)).toEqual([]);
  expect(exit.code).toBe(0);
  const api = report.results.find((r) => r.name === 'api');
  expect(api).toMatchObject({ outcome: 'passed', failures: 0, errors: 0 });
  expect(api!.operations).toBeGreaterThanOrEqual(10);
  expect(api!.testCases).toBeGreaterThan(50);
  // The peers serve their documents (test-mode routes left out) and take the dev tools' caller token.
  for (const name of ['inventory', 'payment']) {
    expect(report.results.find((r) => r.name === name)).toMatchObject({ name, outcome: 'passed', failures: 0, errors: 0 });
  }
  expect(describeProcesses(await leftoversAfter(run))).toBe('');
});
