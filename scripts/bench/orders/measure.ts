import type { JetStreamManager } from '@nats-io/jetstream';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { progress, round } from '../rig';
import type { LoadResult } from './load';
import { cpuMsPerUnit, sampleTrees, type Usage } from './proc-stat';
import type { RunResult, Subject } from './report';
import { summarize } from './stats';

/**
 * One measured run: CPU of every process of the system before and after (after the consumers
 * have caught up, so their work counts for the run that caused it), the load's figures, and the
 * history length of a sample of its workflows, read once the run is over.
 */

export interface RunSpec { name: string; subject: Subject; mode: 'closed' | 'open'; clients?: number; rate?: number; rss?: boolean; scaleOut?: '1+1' | '2+2' }

export interface Probe {
  /** Pid of each process to measure (its descendants are included). */
  pids(): Record<string, number | undefined>;
  /** Waits until the system has finished the work the run caused. */
  settle(): Promise<void>;
  historyEvents(workflowIds: string[]): Promise<number | undefined>;
}

const mib = (u: Usage | undefined) => (u === undefined ? undefined : round(u.rssBytes / 2 ** 20, 1));

export async function measure(spec: RunSpec, probe: Probe, exec: () => Promise<LoadResult>): Promise<RunResult> {
  const { rss: withRss, ...run } = spec;
  const pids = probe.pids();
  progress(`${spec.name}: measuring`);
  const before = sampleTrees(pids);
  const cpuBefore = process.cpuUsage();
  const load = await exec();
  await probe.settle();
  const after = sampleTrees(pids);
  const cpu = process.cpuUsage(cpuBefore);

  const done = load.samples.filter((s) => s.totalMs !== undefined);
  const outcomes: Record<string, number> = {};
  for (const s of load.samples) outcomes[s.outcome] = (outcomes[s.outcome] ?? 0) + 1;
  const cpuMs = cpuMsPerUnit(before, after, done.length);
  const known = Object.values(cpuMs).filter((v): v is number => v !== undefined);
  const result: RunResult = {
    ...run,
    ...(load.achievedRate !== undefined ? { achievedRate: round(load.achievedRate, 2) } : {}),
    seconds: round(load.seconds, 1),
    completed: done.length,
    failed: load.samples.length - done.length,
    outcomes,
    throughput: round(done.length / load.seconds, 2),
    request: summarize(load.samples.map((s) => s.requestMs).filter((v) => !Number.isNaN(v))),
    total: summarize(done.map((s) => s.totalMs!)),
    cpuMs: Object.fromEntries(Object.entries(cpuMs).map(([k, v]) => [k, v === undefined ? undefined : round(v, 2)])),
    cpuMsAll: known.length ? round(known.reduce((a, b) => a + b, 0), 2) : undefined,
    loadGeneratorCpuMs: done.length ? round((cpu.user + cpu.system) / 1000 / done.length, 2) : Number.NaN,
    historyEvents: await probe.historyEvents(done.map((s) => s.workflowId).filter((id): id is string => id !== undefined)),
  };
  if (withRss) result.rss = Object.fromEntries(Object.keys(pids).map((p) => [p, { start: mib(before[p]), end: mib(after[p]) }]));
  progress(`${spec.name}: ${result.completed} done, ${result.failed} failed, ${result.throughput}/s, end p50 ${result.total.p50} ms, p99 ${result.total.p99} ms, CPU ${result.cpuMsAll ?? 'n/a'} ms/unit`);
  return result;
}

/** Until every durable consumer of the stream has nothing pending or unacknowledged (at most `maxMs`). */
export async function consumersCaughtUp(jsm: JetStreamManager, stream: string, maxMs = 30_000): Promise<void> {
  const deadline = performance.now() + maxMs;
  for (;;) {
    let pending = 0;
    for await (const c of jsm.consumers.list(stream)) pending += c.num_pending + c.num_ack_pending;
    if (pending === 0) return;
    if (performance.now() > deadline) { progress(`  consumers still have ${pending} events pending after ${maxMs / 1000} s; measuring anyway`); return; }
    await sleep(200);
  }
}
