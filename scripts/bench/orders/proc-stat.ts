import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * CPU time and memory of processes from /proc (Linux only). A process is measured with all its
 * descendants (Postgres: the postmaster and every backend), counting each one's own time and the
 * time of its children already reaped (cutime/cstime), so a backend that exits between two
 * snapshots moves from "its own" to "its parent's reaped" time and is never lost or counted twice.
 */

/** The fields of /proc/<pid>/stat we use; times in clock ticks, rss in pages. */
export interface ProcStat { pid: number; comm: string; ppid: number; utime: number; stime: number; cutime: number; cstime: number; rssPages: number }

/** Parses one /proc/<pid>/stat line. The command name may contain spaces and parentheses, so fields are counted from its last ')'. */
export function parseProcStat(line: string): ProcStat {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: '${line.slice(0, 80)}'`);
  // After ')': field 3 (state) is rest[0], so field n is rest[n - 3].
  const rest = line.slice(close + 2).trim().split(/\s+/);
  const field = (n: number) => {
    const v = Number(rest[n - 3]);
    if (!Number.isFinite(v)) throw new Error(`field ${n} of /proc/<pid>/stat is missing or not a number in '${line.slice(0, 80)}'`);
    return v;
  };
  return {
    pid: Number(line.slice(0, open).trim()), comm: line.slice(open + 1, close),
    ppid: field(4), utime: field(14), stime: field(15), cutime: field(16), cstime: field(17), rssPages: field(24),
  };
}

/** CPU ticks of a process tree: every member's own and reaped children's time. */
export function treeTicks(tree: readonly ProcStat[]): number {
  return tree.reduce((n, p) => n + p.utime + p.stime + p.cutime + p.cstime, 0);
}

/** The process `root` and all its descendants, from a list of every process's stat. */
export function treeOf(root: number, all: readonly ProcStat[]): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const self = all.find((p) => p.pid === root);
  if (!self) return [];
  const tree = [self];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!.pid) ?? []));
  return tree;
}

function getconf(name: string, fallback: number): number {
  try {
    return Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim()) || fallback;
  } catch {
    return fallback;
  }
}
export const CLOCK_TICKS_PER_SECOND = getconf('CLK_TCK', 100);
export const PAGE_BYTES = getconf('PAGESIZE', 4096);

const pids = () => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);

/** Every process's stat right now (processes that end while we read are skipped). */
export function readAllStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const pid of pids()) {
    try {
      out.push(parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')));
    } catch { /* gone */ }
  }
  return out;
}

/** Socket inodes listening on `port` (TCP, IPv4 and IPv6). */
export function listeningInodes(port: number, tables: string[] = ['/proc/net/tcp', '/proc/net/tcp6']): Set<string> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of tables) {
    let text = '';
    try { text = readFileSync(table, 'utf8'); } catch { continue; }
    for (const row of text.split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      // local_address is ip:port in hex; st 0A is LISTEN; inode is column 10.
      if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A' && cols[9]) inodes.add(cols[9]);
    }
  }
  return inodes;
}

/**
 * The process listening on each port (the topmost one when forked children share the socket), or
 * undefined. Needs to read other processes' /proc/<pid>/fd (same user, or root).
 */
export function pidsListeningOn(ports: Record<string, number>): Record<string, number | undefined> {
  const wanted = new Map<string, string>();
  for (const [name, port] of Object.entries(ports)) for (const inode of listeningInodes(port)) wanted.set(`socket:[${inode}]`, name);
  const found = new Map<string, Set<number>>();
  for (const pid of pids()) {
    let fds: string[];
    try { fds = readdirSync(`/proc/${pid}/fd`); } catch { continue; }
    for (const fd of fds) {
      let target: string;
      try { target = readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { continue; }
      const name = wanted.get(target);
      if (name) found.set(name, (found.get(name) ?? new Set()).add(pid));
    }
  }
  const stats = readAllStats();
  const result: Record<string, number | undefined> = {};
  for (const name of Object.keys(ports)) {
    const holders = found.get(name) ?? new Set<number>();
    result[name] = [...holders].find((pid) => !holders.has(stats.find((s) => s.pid === pid)?.ppid ?? -1));
  }
  return result;
}

/** CPU seconds and RSS bytes of each named process tree right now. */
export interface Usage { cpuSeconds: number; rssBytes: number }

export function sampleTrees(roots: Record<string, number | undefined>): Record<string, Usage | undefined> {
  const all = readAllStats();
  const out: Record<string, Usage | undefined> = {};
  for (const [name, pid] of Object.entries(roots)) {
    const tree = pid === undefined ? [] : treeOf(pid, all);
    out[name] = tree.length ? { cpuSeconds: treeTicks(tree) / CLOCK_TICKS_PER_SECOND, rssBytes: tree.reduce((n, p) => n + p.rssPages, 0) * PAGE_BYTES } : undefined;
  }
  return out;
}

/** CPU milliseconds per unit of work of each process between two samples; undefined where a process was missing or restarted. */
export function cpuMsPerUnit(before: Record<string, Usage | undefined>, after: Record<string, Usage | undefined>, units: number): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const name of Object.keys(before)) {
    const a = before[name];
    const b = after[name];
    const delta = a && b ? b.cpuSeconds - a.cpuSeconds : undefined;
    out[name] = delta === undefined || delta < 0 || units <= 0 ? undefined : (delta * 1000) / units;
  }
  return out;
}
