import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTools } from '../infra';
import { removeDataDir } from '../infra/postgres';
import { freeDevPortOffset } from '../dev/ports';
import { startDevSystem, type DevSystem } from '../dev/system';
import { fuzzTarget, type TargetResult } from './schemathesis';
import { FUZZ_TARGETS } from './targets';
import { runAsScript } from '../infra/script-main';

/**
 * `npm run fuzz`: schemathesis (from PyPI, cached by tools/ensure-tools.sh) against the OpenAPI
 * document of every service in scripts/fuzz/targets.ts, with `--checks all`, on the whole system
 * started the way `npm run dev` starts it, on shifted ports in a private temporary directory.
 * Prints each service's totals; exits 1 on any server error or conformance failure (or a run
 * that hit its wall-clock cap), 0 when every served document passed.
 */
const USAGE = 'usage: npm run fuzz -- [--max-examples 50] [--cap-seconds 600] [--targets api,inventory,payment] [--seed N] [--json file] [--keep] [--port-offset N]';

function table(results: TargetResult[]): string {
  const lines = ['service     result   operations  test cases  failures  errors  seconds', '----------  -------  ----------  ----------  --------  ------  -------'];
  for (const r of results) {
    lines.push(`${r.name.padEnd(10)}  ${r.outcome.padEnd(7)}  ${String(r.operations).padStart(10)}  ${String(r.testCases).padStart(10)}  ${String(r.failures).padStart(8)}  ${String(r.errors).padStart(6)}  ${String(r.seconds).padStart(7)}`);
    if (r.note) lines.push(`            ${r.note}`);
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'max-examples': { type: 'string', default: '50' }, 'cap-seconds': { type: 'string', default: '600' },
      targets: { type: 'string' }, seed: { type: 'string', default: '1' }, json: { type: 'string' },
      keep: { type: 'boolean', default: false }, 'port-offset': { type: 'string' }, help: { type: 'boolean', default: false },
    },
  });
  if (values.help) { console.log(USAGE); return 0; }
  const maxExamples = Number(values['max-examples']);
  const capSeconds = Number(values['cap-seconds']);
  const names = values.targets?.split(',') ?? FUZZ_TARGETS.map((t) => t.name);
  const unknown = names.filter((n) => !FUZZ_TARGETS.some((t) => t.name === n));
  if (!Number.isInteger(maxExamples) || maxExamples < 1 || !(capSeconds > 0) || unknown.length) {
    console.error(unknown.length ? `unknown target(s): ${unknown.join(', ')}\n${USAGE}` : USAGE);
    return 2;
  }
  const say = (m: string) => console.log(`[fuzz] ${m}`);
  const { SCHEMATHESIS_BIN: bin } = await ensureTools(['schemathesis']);
  const dir = mkdtempSync(join(tmpdir(), 'orders-fuzz-'));
  const reports = join(dir, 'reports');
  mkdirSync(reports);
  say(`targets ${names.join(', ')}; at most ${maxExamples} examples per operation, ${capSeconds} s per target; state, logs and reports in ${dir}`);
  let system: DevSystem | undefined;
  const results: TargetResult[] = [];
  try {
    system = await startDevSystem({
      dataDir: join(dir, 'data'), portOffset: values['port-offset'] ? Number(values['port-offset']) : await freeDevPortOffset(), say, logDir: dir,
      // The per-client POST limit would answer most of the fuzzer's POSTs 429 (allowed, but testing nothing).
      processEnv: { API_RATE_LIMIT_POSTS: '1000000' },
    });
    for (const target of FUZZ_TARGETS.filter((t) => names.includes(t.name))) {
      const result = await fuzzTarget(target, target.baseUrl(system), await target.headers(system), {
        bin: bin!, dir: reports, maxExamples, capSeconds, seed: Number(values.seed), say,
      });
      results.push(result);
      say(`${target.name}: ${result.outcome}${result.note ? ` (${result.note})` : ''}`);
    }
  } finally {
    await system?.stop();
    console.log(`\n${table(results)}\n`);
    if (values.json) writeFileSync(values.json, JSON.stringify({ maxExamples, capSeconds, seed: Number(values.seed), results }, null, 2));
    if (!values.keep) {
      removeDataDir(join(dir, 'data', 'postgres'));
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const failed = results.filter((r) => r.outcome === 'failed');
  say(failed.length ? `FAILED: ${failed.map((r) => r.name).join(', ')}${values.keep ? ` (reports in ${reports})` : ' (run with --keep to look at the reports)'}` : 'no server errors, no conformance failures');
  return failed.length ? 1 : 0;
}

runAsScript('fuzz', main);
