import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnTracked } from '../infra';
import type { FuzzTarget } from './targets';

/** One schemathesis run against one service, and what it found. */
export interface TargetResult {
  name: string;
  outcome: 'passed' | 'failed' | 'skipped';
  /** Why it was skipped or could not finish. */
  note?: string;
  operations: number;
  testCases: number;
  failures: number;
  errors: number;
  seconds: number;
}

export interface RunSettings {
  bin: string;
  dir: string;
  maxExamples: number;
  /** Wall-clock cap of one target's run; a run still going then is stopped and counts as failed. */
  capSeconds: number;
  seed: number;
  say(message: string): void;
}

const toml = (value: unknown): string => JSON.stringify(value); // TOML basic strings and arrays read JSON's

/** schemathesis.toml for one target: its headers and the statuses valid requests may also get. */
function configFor(target: FuzzTarget, headers: Record<string, string>): string {
  const lines = ['[headers]', ...Object.entries(headers).map(([k, v]) => `${toml(k)} = ${toml(v)}`), ''];
  const defaults = ['2xx', '3xx', '401', '403', '404', '409', '429', '5xx'];
  for (const op of target.validMayAlsoGet ?? []) {
    lines.push('[[operations]]', `include-method = ${toml(op.method)}`, `include-path = ${toml(op.path)}`,
      `checks.positive_data_acceptance.expected-statuses = ${toml([...defaults, ...op.statuses])}`, '');
  }
  return lines.join('\n');
}

type Security = Record<string, unknown>[];
interface OpenApiDocument { security?: Security; paths?: Record<string, Record<string, { security?: Security }>> }

/** Drops a security scheme from the document's requirements (global and per operation). */
function withoutScheme(doc: OpenApiDocument, scheme: string): void {
  const drop = (security: Security | undefined) => security?.filter((requirement) => !(scheme in requirement));
  const global = drop(doc.security);
  if (global?.length) doc.security = global; else delete doc.security;
  for (const operations of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(operations)) if (op && typeof op === 'object' && op.security) op.security = drop(op.security);
  }
}

/**
 * Sums of schemathesis's NDJSON event stream (--report ndjson): operations selected, test cases
 * sent, distinct failures (operation, check, failure code), errors (e.g. a request that got no answer).
 */
function totalsOf(ndjsonFile: string): Pick<TargetResult, 'operations' | 'testCases' | 'failures' | 'errors'> {
  const totals = { operations: 0, testCases: 0, failures: 0, errors: 0 };
  let text = '';
  try { text = readFileSync(ndjsonFile, 'utf8'); } catch { return totals; }
  const failures = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as Record<string, Record<string, unknown> | undefined>;
    const loaded = event.LoadingFinished?.statistic as { operations?: { selected?: number } } | undefined;
    if (loaded) totals.operations = loaded.operations?.selected ?? 0;
    const recorder = event.ScenarioFinished?.recorder as {
      label: string; cases?: Record<string, unknown>;
      checks?: Record<string, { name: string; status: string; failure_info?: { failure?: { code?: string } } }[]>;
    } | undefined;
    if (recorder) {
      totals.testCases += Object.keys(recorder.cases ?? {}).length;
      for (const check of Object.values(recorder.checks ?? {}).flat()) {
        if (check.status === 'failure') failures.add(`${recorder.label} ${check.name} ${check.failure_info?.failure?.code ?? ''}`);
      }
    }
    if (event.NonFatalError) totals.errors += 1;
  }
  totals.failures = failures.size;
  return totals;
}

/**
 * Fetches the target's document (with its headers), then runs `schemathesis run --checks all`
 * on it, bounded by --max-examples per operation and a wall-clock cap.
 */
export async function fuzzTarget(target: FuzzTarget, baseUrl: string, headers: Record<string, string>, s: RunSettings): Promise<TargetResult> {
  const started = Date.now();
  const empty = { operations: 0, testCases: 0, failures: 0, errors: 0 };
  const result = (outcome: TargetResult['outcome'], rest: Partial<TargetResult> = {}): TargetResult =>
    ({ name: target.name, outcome, ...empty, ...rest, seconds: Math.round((Date.now() - started) / 1000) });

  const res = await fetch(`${baseUrl}/openapi.json`, { headers }).catch((err: Error) => err);
  if (res instanceof Error) return result('failed', { note: `could not fetch ${baseUrl}/openapi.json: ${res.message}` });
  if (res.status === 404) return result('skipped', { note: `${target.name} serves no /openapi.json yet (404); add one to fuzz it` });
  if (!res.ok) return result('failed', { note: `${baseUrl}/openapi.json answered ${res.status}; check the target's headers in scripts/fuzz/targets.ts` });
  const doc = await res.json() as OpenApiDocument;
  if (target.notEnforcedYet) {
    s.say(`${target.name}: WARNING: its document declares ${target.notEnforcedYet.scheme}, which it does not enforce yet (${target.notEnforcedYet.why}); fuzzing without it`);
    withoutScheme(doc, target.notEnforcedYet.scheme);
  }
  const documentFile = join(s.dir, `${target.name}.openapi.json`);
  writeFileSync(documentFile, JSON.stringify(doc));
  const configFile = join(s.dir, `${target.name}.schemathesis.toml`);
  writeFileSync(configFile, configFor(target, headers));
  const ndjson = join(s.dir, `${target.name}.events.ndjson`);
  const excluded = Object.keys(target.excludeChecks ?? {});
  for (const [check, why] of Object.entries(target.excludeChecks ?? {})) s.say(`${target.name}: check ${check} left out: ${why}`);
  if (target.skipPaths) s.say(`${target.name}: paths matching ${target.skipPaths.regex} not fuzzed: ${target.skipPaths.why}`);

  // One worker: with two, hypothesis describes its filters by parsing their source from two
  // threads at once, which CPython 3.11 does not survive (a runtime error on the payment document).
  const args = [
    '--config-file', configFile, 'run', documentFile, '--url', baseUrl,
    '--checks', 'all', ...(excluded.length ? ['--exclude-checks', excluded.join(',')] : []),
    ...(target.skipPaths ? ['--exclude-path-regex', target.skipPaths.regex] : []),
    '--max-examples', String(s.maxExamples), '--seed', String(s.seed), '--workers', '1',
    '--generation-database', 'none', '--request-timeout', '15', '--no-color',
    '--report', 'ndjson,junit', '--report-ndjson-path', ndjson, '--report-junit-path', join(s.dir, `${target.name}.junit.xml`),
  ];
  s.say(`${target.name}: schemathesis ${args.slice(2).join(' ')}`);
  const log = join(s.dir, `${target.name}.schemathesis.log`);
  const child = spawnTracked(s.bin, args, { cwd: s.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; process.stdout.write(chunk); });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; process.stderr.write(chunk); });
  let capped = false;
  const cap = setTimeout(() => { capped = true; child.kill('SIGTERM'); setTimeout(() => child.kill('SIGKILL'), 5_000).unref(); }, s.capSeconds * 1000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(cap);
  writeFileSync(log, output);
  const totals = totalsOf(ndjson);
  if (capped) return result('failed', { ...totals, note: `stopped at the ${s.capSeconds} s cap before it finished (raise --cap-seconds or lower --max-examples)` });
  const passed = code === 0 && totals.failures === 0 && totals.errors === 0;
  return result(passed ? 'passed' : 'failed', { ...totals, ...(passed ? {} : { note: `schemathesis exited with ${code}; its report is in ${log}` }) });
}
