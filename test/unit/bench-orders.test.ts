import { cpuMsPerUnit, parseProcStat, treeOf, treeTicks, type ProcStat } from '../../scripts/bench/orders/proc-stat';
import { ratios, ratioTable, type RunResult } from '../../scripts/bench/orders/report';
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
