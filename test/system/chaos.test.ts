import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeProcesses, leftoversAfter, runScript, type ScriptRun } from '../harness/child-runs';

/**
 * The chaos harness at CI size (`npm run chaos -- --orders 60 --clients 6 --schedule ci`):
 * the whole system as `npm run dev` starts it, every process killed once, NATS, Postgres and
 * Temporal down for a moment, slow peers, poison events; then O1-O6 must all hold. The full
 * run (1,000 orders, longer outages) is documented in the README.
 */
jest.setTimeout(900_000);

const EXTERNAL = ['DATABASE_URL', 'NATS_URL', 'TEMPORAL_ADDRESS', 'SMTP_URL', 'PAYMENT_WEBHOOK_URL'];
let run: ScriptRun | undefined;
let dir: string;

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'orders-chaos-test-')); });
afterAll(() => {
  run?.kill();
  rmSync(dir, { recursive: true, force: true });
});

it('keeps every promise (O1-O6) through crashes and outages of every part', async () => {
  const json = join(dir, 'chaos.json');
  run = runScript(['scripts/chaos', '--orders', '60', '--clients', '6', '--schedule', 'ci', '--seed', '4242', '--json', json], {}, EXTERNAL);
  const exit = await run.exited;
  const report = JSON.parse(readFileSync(json, 'utf8')) as { results: { id: string; violations: string[]; figures: Record<string, number> }[]; faults: { what: string }[] };
  const violations = report.results.flatMap((r) => r.violations.map((v) => `${r.id}: ${v}`));
  expect(violations).toEqual([]);
  expect(exit.code).toBe(0);
  expect(report.results.map((r) => r.id)).toEqual(['O1', 'O2', 'O3', 'O4', 'O5', 'O6']);
  const figures = Object.fromEntries(report.results.map((r) => [r.id, r.figures]));
  expect(figures.O1!.accepted).toBe(60);
  expect(figures.O6!.poison_injected).toBe(3);
  // Every fault really happened (none failed to inject).
  expect(report.faults.filter((f) => f.what.startsWith('FAILED'))).toEqual([]);
  expect(report.faults.filter((f) => f.what.startsWith('done: kill -9')).length).toBeGreaterThanOrEqual(9);
  expect(describeProcesses(await leftoversAfter(run))).toBe('');
});
