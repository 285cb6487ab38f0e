import { cpuMsPerUnit, parseProcStat, treeOf, treeTicks, type ProcStat } from '../../scripts/bench/orders/proc-stat';
import { parseEnvAssignments, parseOptions } from '../../scripts/bench/orders/options';
import { cpuBudgets, cpuBudgetTable, ratios, ratioTable, scaleOutTable, type RunResult } from '../../scripts/bench/orders/report';
import { parseSqlitePragmas, temporalDevServerArgs } from '../../scripts/infra/temporal';
import { parseLevels, summarize } from '../../scripts/bench/orders/stats';

/** The pure parts of `npm run bench:orders`: percentiles, /proc stat parsing and CPU deltas, the ratio table. */

// A /proc/<pid>/stat line laid out as Linux writes it (52 fields), with the fields we read set by the test.
const statLine = (pid: number, comm: string, ppid: number, utime: number, stime: number, cutime = 0, cstime = 0, rss = 2048) =>
  `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 1043 0 0 0 ${utime} ${stime} ${cutime} ${cstime} 20 0 1 0 123456 222736384 ${rss} 18446744073709551615 1 1 0 0 0 0 4194304 19935239 536883718 0 0 0 17 1 0 0 0 0 0`;

describe('bench:orders percentiles', () => {
  it('summarizes by nearest rank, whatever the input order', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1
    expect(summarize(values)).toEqual({ count: 100, p50: 50, p90: 90, p99: 99, max: 100 });
  });

  it('takes the single value for every percentile of one sample, NaN for none', () => {
    expect(summarize([7.25])).toEqual({ count: 1, p50: 7.3, p90: 7.3, p99: 7.3, max: 7.3 });
    const empty = summarize([]);
    expect(empty.count).toBe(0);
    expect(Number.isNaN(empty.p50) && Number.isNaN(empty.max)).toBe(true);
  });

  it('reads client levels and refuses anything but positive whole numbers', () => {
    expect(parseLevels('1, 8,32,64')).toEqual([1, 8, 32, 64]);
    expect(() => parseLevels('1,0')).toThrow(/positive whole numbers/);
    expect(() => parseLevels('1,2.5')).toThrow(/positive whole numbers/);
    expect(() => parseLevels('')).toThrow(/positive whole numbers/);
  });
});

describe('bench:orders /proc stat parsing', () => {
  it('reads the fields after the command name, even when the name has spaces and parentheses', () => {
    const s = parseProcStat(statLine(4242, 'postgres: bench (idle) x', 100, 1234, 56, 7, 8, 2048));
    expect(s).toEqual({ pid: 4242, comm: 'postgres: bench (idle) x', ppid: 100, utime: 1234, stime: 56, cutime: 7, cstime: 8, rssPages: 2048 });
  });

  it('refuses a line that is not a stat line', () => {
    expect(() => parseProcStat('garbage')).toThrow(/not a \/proc\/<pid>\/stat line/);
    expect(() => parseProcStat('12 (node) S 1 2')).toThrow(/field \d+ .* missing/);
  });

  it('measures a process with its descendants, and a backend that exits between two samples is neither lost nor counted twice', () => {
    const other = parseProcStat(statLine(999, 'node', 1, 5000, 5000));
    const before: ProcStat[] = [
      parseProcStat(statLine(100, 'postgres', 1, 100, 50)),
      parseProcStat(statLine(101, 'postgres', 100, 30, 20)), // backend that will exit
      parseProcStat(statLine(102, 'postgres', 100, 10, 10)),
      parseProcStat(statLine(103, 'postgres', 102, 5, 5)), // grandchild
      other,
    ];
    expect(treeOf(100, before).map((p) => p.pid).sort()).toEqual([100, 101, 102, 103]);
    expect(treeTicks(treeOf(100, before))).toBe(230);
    // 101 exited and was reaped (its 50 + 10 more ticks now in the postmaster's cutime/cstime); 104 is new.
    const after: ProcStat[] = [
      parseProcStat(statLine(100, 'postgres', 1, 110, 50, 40, 20)),
      parseProcStat(statLine(102, 'postgres', 100, 10, 20)),
      parseProcStat(statLine(103, 'postgres', 102, 5, 5)),
      parseProcStat(statLine(104, 'postgres', 100, 15, 0)),
      other,
    ];
    // + 10 (postmaster) + 10 (101 before it exited) + 10 (102) + 15 (104)
    expect(treeTicks(treeOf(100, after)) - treeTicks(treeOf(100, before))).toBe(45);
    expect(treeOf(12345, after)).toEqual([]);
  });

  it('turns two samples into CPU ms per unit, and leaves out a process missing or restarted', () => {
    const per = cpuMsPerUnit(
      { api: { cpuSeconds: 1, rssBytes: 0 }, worker: { cpuSeconds: 5, rssBytes: 0 }, gone: { cpuSeconds: 1, rssBytes: 0 }, restarted: { cpuSeconds: 9, rssBytes: 0 } },
      { api: { cpuSeconds: 3, rssBytes: 0 }, worker: { cpuSeconds: 5.5, rssBytes: 0 }, gone: undefined, restarted: { cpuSeconds: 0.2, rssBytes: 0 } },
      100,
    );
    expect(per).toEqual({ api: 20, worker: 5, gone: undefined, restarted: undefined });
  });
});

const latency = (p50: number, p99 = p50 * 2) => ({ count: 10, p50, p90: p50, p99, max: p99 });
function run(subject: RunResult['subject'], mode: 'closed' | 'open', load: number, throughput: number, p50: number, extra: Partial<RunResult> = {}): RunResult {
  return {
    name: `${subject} ${load}`, subject, mode, ...(mode === 'closed' ? { clients: load } : { rate: load }), seconds: 10, completed: 10, failed: 0, outcomes: {},
    throughput, request: latency(5), total: latency(p50), cpuMs: {}, cpuMsAll: 200, loadGeneratorCpuMs: 1, historyEvents: 60, ...extra,
  };
}

describe('bench:orders ratio table', () => {
  const runs = [
    run('orders', 'closed', 1, 1.1, 899), run('orders', 'closed', 32, 5.2, 6000, { cpuMsAll: 263 }),
    run('orders', 'open', 25, 20, 900, { request: latency(10, 60) }),
    run('noop-regular', 'closed', 1, 1, 950), run('noop-regular', 'closed', 32, 8, 4000),
    run('noop-local', 'closed', 1, 18, 54), run('noop-local', 'closed', 32, 35.2, 900),
  ];

  it('computes the ratios of issue 12 at the chosen level and judges each against its target', () => {
    const r = ratios(runs, 32);
    expect(r.map((x) => x.value)).toEqual([5.2 / 35.2, 5.2 / 8, 899, 899 / 54, 263, 60]);
    expect(r.map((x) => x.met)).toEqual([false, false, false, false, false, false]);
    const fast = ratios([
      run('orders', 'closed', 1, 10, 100), run('orders', 'closed', 32, 30, 900, { cpuMsAll: 70 }), run('orders', 'open', 25, 25, 100, { request: latency(5, 40) }),
      run('noop-regular', 'closed', 32, 8, 4000), run('noop-local', 'closed', 1, 18, 54), run('noop-local', 'closed', 32, 35.2, 900),
    ], 32);
    expect(fast.map((x) => x.met)).toEqual([true, true, true, true, true, true]);
  });

  it('says how much CPU per order each throughput target leaves at the CPU the orders used, next to the engine\'s own cost', () => {
    const b = cpuBudgets([...runs, run('noop-local', 'closed', 4, 30, 90, { cpuMsAll: 1 })], 32);
    expect(b.usedMsPerSecond).toBeCloseTo(5.2 * 263);
    expect(b.engineAloneMs).toBe(200);
    expect(b.budgets.map((x) => x.ordersPerSecond)).toEqual([0.7 * 35.2, 3 * 8, 25]);
    expect(b.budgets.map((x) => x.budgetMs)).toEqual([5.2 * 263 / (0.7 * 35.2), 5.2 * 263 / 24, 5.2 * 263 / 25]);
    expect(b.nowMs).toBe(263);
    const lines = cpuBudgetTable(b).split('\n');
    expect(lines[2]).toMatch(/^orders\/s >= 0\.7 x local-activity no-op\s+24\.64\s+55\.5\s+263\.0$/);
    expect(cpuBudgets(runs.filter((x) => x.subject !== 'noop-regular'), 32).budgets[1]!.budgetMs).toBeUndefined();
    expect(cpuBudgets([], 32).usedMsPerSecond).toBeUndefined();
  });

  it('says n/a where a run is missing rather than a number', () => {
    const r = ratios(runs.filter((x) => x.subject === 'orders'), 32);
    expect(r[0]!.value).toBeUndefined();
    expect(r[0]!.met).toBeUndefined();
    expect(r[2]!.value).toBe(899);
  });

  it('formats one aligned row per ratio with value, target and verdict', () => {
    const lines = ratioTable(ratios(runs, 32)).split('\n');
    expect(lines[0]).toMatch(/^ratio\s+value\s+target\s+verdict$/);
    expect(lines).toHaveLength(2 + 6);
    expect(lines[2]).toMatch(/^orders\/s at 32 clients \/ local-activity no-op wf\/s at 32\s+0\.15\s+>= 0\.7\s+MISSED$/);
    expect(lines[4]).toMatch(/^1 client: POST -> terminal p50, ms\s+899\.00\s+<= 150\s+MISSED$/);
    expect(ratioTable(ratios([], 32))).toMatch(/n\/a\s+>= 0\.7\s+n\/a/);
  });
});

describe('bench:orders command line: the Temporal dev server, process settings, scale-out (pure logic)', () => {
  const exitWith = (argv: string[]): string => {
    const exit = jest.spyOn(process, 'exit').mockImplementation(((code?: number) => { throw new Error(`exit ${code}`); }) as never);
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      parseOptions(argv, {});
      return 'no exit';
    } catch (err) {
      return `${(err as Error).message}: ${String(error.mock.calls[0]?.[0]).split('\n')[0]}`;
    } finally {
      exit.mockRestore();
      error.mockRestore();
    }
  };

  it('defaults to the file-backed dev server with the dev pragmas, no extra settings, no scale-out step', () => {
    const o = parseOptions([], {});
    expect(o).toMatchObject({ temporalDb: 'file', sqlitePragmas: undefined, processEnv: {}, scaleOutClients: undefined, ratioClients: 32 });
  });

  it('reads the dev server mode, its pragmas (none: SQLite\'s own), repeated --env settings and the scale-out level', () => {
    expect(parseOptions(['--temporal-db', 'memory'], {}).temporalDb).toBe('memory');
    expect(parseOptions(['--sqlite-pragmas', 'journal_mode=wal,synchronous=off'], {}).sqlitePragmas).toEqual({ journal_mode: 'wal', synchronous: 'off' });
    expect(parseOptions(['--sqlite-pragmas', 'none'], {}).sqlitePragmas).toEqual({});
    expect(parseOptions(['--env', 'TEMPORAL_WORKER_MAX_EAGER_ACTIVITIES=0', '--env', 'LOG_LEVEL=warn'], {}).processEnv)
      .toEqual({ TEMPORAL_WORKER_MAX_EAGER_ACTIVITIES: '0', LOG_LEVEL: 'warn' });
    expect(parseOptions(['--scale-out'], {}).scaleOutClients).toBe(32);
    expect(parseOptions(['--scale-out', '--quick'], {}).scaleOutClients).toBe(4);
    expect(parseOptions(['--scale-out', '--scale-out-clients', '16'], {}).scaleOutClients).toBe(16);
  });

  it('refuses what it cannot apply, with exit code 2 and the reason', () => {
    expect(exitWith(['--temporal-db', 'disk'])).toMatch(/^exit 2: --temporal-db must be file or memory/);
    expect(exitWith(['--sqlite-pragmas', 'journal_mode'])).toMatch(/^exit 2: --sqlite-pragmas: "journal_mode" is not pragma=value/);
    expect(exitWith(['--sqlite-pragmas', 'synchronous=off; DROP'])).toMatch(/^exit 2: --sqlite-pragmas/);
    expect(exitWith(['--temporal-db', 'memory', '--sqlite-pragmas', 'synchronous=off'])).toMatch(/^exit 2: --sqlite-pragmas applies to the file/);
    expect(exitWith(['--env', 'lower=1'])).toMatch(/^exit 2: --env: "lower=1" is not KEY=VALUE/);
    expect(exitWith(['--target', '--scale-out'])).toMatch(/^exit 2: --target measures a system as it runs/);
    expect(exitWith(['--target', '--env', 'A=1'])).toMatch(/^exit 2: --target/);
    expect(exitWith(['--scale-out', '--scale-out-clients', '0'])).toMatch(/^exit 2: --scale-out-clients must be a number > 0/);
    expect(exitWith(['--target'])).toBe('no exit');
  });

  it('keeps an = inside an --env value', () => {
    expect(parseEnvAssignments(['A=b=c', 'EMPTY='])).toEqual({ A: 'b=c', EMPTY: '' });
  });
});

describe('the Temporal dev server command line (pure logic)', () => {
  const flags = (args: string[], flag: string) => args.flatMap((a, i) => (args[i - 1] === flag ? [a] : []));

  it('gives the file the durable dev pragmas and turns on eager activity dispatch by default', () => {
    const args = temporalDevServerArgs({ port: 7233, uiPort: 8233, codecEndpoint: 'http://127.0.0.1:3000/codec', dbFile: '/tmp/t.db' });
    expect(flags(args, '--db-filename')).toEqual(['/tmp/t.db']);
    expect(flags(args, '--sqlite-pragma')).toEqual(['journal_mode=wal', 'synchronous=normal']);
    expect(flags(args, '--dynamic-config-value')).toEqual(['system.enableActivityEagerExecution=true']);
    expect(flags(args, '--ui-codec-endpoint')).toEqual(['http://127.0.0.1:3000/codec']);
    expect(args).not.toContain('--headless');
  });

  it('passes no pragmas in memory, and other pragmas or none for the file when asked', () => {
    const memory = temporalDevServerArgs({ port: 7233, sqlitePragmas: { synchronous: 'off' } });
    expect(memory).not.toContain('--db-filename');
    expect(memory).not.toContain('--sqlite-pragma');
    expect(memory).toContain('--headless');
    expect(flags(temporalDevServerArgs({ port: 1, dbFile: 'f', sqlitePragmas: { synchronous: 'off' } }), '--sqlite-pragma')).toEqual(['synchronous=off']);
    expect(temporalDevServerArgs({ port: 1, dbFile: 'f', sqlitePragmas: {} })).not.toContain('--sqlite-pragma');
    expect(flags(temporalDevServerArgs({ port: 1, dynamicConfig: {} }), '--dynamic-config-value')).toEqual([]);
  });

  it('reads pragma lists and refuses anything that is not pragma=word', () => {
    expect(parseSqlitePragmas(' journal_mode=wal , synchronous=NORMAL ')).toEqual({ journal_mode: 'wal', synchronous: 'NORMAL' });
    expect(parseSqlitePragmas('')).toEqual({});
    expect(() => parseSqlitePragmas('journal_mode=wal;x')).toThrow(/not pragma=value/);
  });
});

describe('bench:orders scale-out table (pure logic)', () => {
  it('compares 2 workers + 2 APIs with 1 + 1 and keeps both rows out of the ratios', () => {
    const one = run('orders', 'closed', 32, 10, 3000, { scaleOut: '1+1', cpuMsAll: 100 });
    const two = run('orders', 'closed', 32, 12, 2500, { scaleOut: '2+2', cpuMsAll: 110 });
    const lines = scaleOutTable([one, two])!.split('\n');
    expect(lines[2]).toMatch(/^1 \+ 1\s+32\s+10\.00\s+5\.0\s+3000\.0\s+6000\.0\s+100\.0$/);
    expect(lines[4]).toMatch(/^gain \(2\+2 \/ 1\+1\)\s+x 1\.20\s+x 1\.00\s+x 0\.83\s+x 0\.83\s+x 1\.10$/);
    expect(scaleOutTable([one])).toBeUndefined();
    expect(ratios([one, two], 32)[4]!.value).toBeUndefined(); // CPU per order at 32: no ordinary run at 32
  });
});
