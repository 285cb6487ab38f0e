import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { progress, round } from '../rig';

/**
 * Load shapes: a closed loop of C clients, each starting its next unit of work when the last one
 * ended, and an open loop starting units at a fixed rate whatever is still in flight. A unit is
 * an order (POST, then its terminal event) or a no-op workflow (start, then its result).
 */

/** One unit of work: how long its request took and when (if) it reached its end. */
export interface Sample {
  /** The request that starts it (POST /orders, or the workflow start), ms. */
  requestMs: number;
  /** From sending the request to its end (terminal event, workflow result), ms; absent if it never ended. */
  totalMs?: number;
  /** How it ended (the order's terminal status, "completed"), or why it failed. */
  outcome: string;
  /** The id to read its history by. */
  workflowId?: string;
}

export type Work = () => Promise<Sample>;

export interface LoadResult {
  samples: Sample[];
  /** From the first start to the last end, seconds. */
  seconds: number;
  /** Open loop: the arrival rate achieved. */
  achievedRate?: number;
}

function reporter(label: string, samples: Sample[], inFlight: () => number): NodeJS.Timeout {
  const start = performance.now();
  return setInterval(() => {
    const s = (performance.now() - start) / 1000;
    const done = samples.filter((x) => x.totalMs !== undefined).length;
    progress(`  ${label}: ${s.toFixed(0)} s, ${done} done (${round(done / s, 1)}/s), ${samples.length - done} failed, ${inFlight()} in flight`);
  }, 5_000);
}

/** A failed unit must not spin a closed-loop client: a short pause before its next one. */
async function runOne(work: Work): Promise<Sample> {
  const sample = await work().catch((err: unknown): Sample => ({ requestMs: Number.NaN, outcome: `error: ${(err as Error).message}` }));
  if (sample.totalMs === undefined) await sleep(100);
  return sample;
}

/** `clients` loops, each running units back to back for `seconds` (or until `units` were started in all). */
export async function closedLoop(label: string, clients: number, limit: { seconds: number } | { units: number }, work: Work): Promise<LoadResult> {
  const samples: Sample[] = [];
  let started = 0;
  const start = performance.now();
  const more = () => ('units' in limit ? started < limit.units : performance.now() - start < limit.seconds * 1000);
  const timer = reporter(label, samples, () => started - samples.length);
  try {
    await Promise.all(Array.from({ length: clients }, async () => {
      while (more()) {
        started += 1;
        samples.push(await runOne(work));
      }
    }));
  } finally {
    clearInterval(timer);
  }
  return { samples, seconds: (performance.now() - start) / 1000 };
}

/** Starts `rate` units per second for `seconds`, on schedule whatever is in flight; then waits for all. */
export async function openLoop(label: string, rate: number, seconds: number, work: Work): Promise<LoadResult> {
  const samples: Sample[] = [];
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  const running: Promise<void>[] = [];
  const timer = reporter(label, samples, () => running.length - samples.length);
  const start = performance.now();
  let lastStart = start;
  try {
    for (let i = 0; i < total; i++) {
      const wait = start + i * interval - performance.now();
      if (wait >= 1) await sleep(wait);
      lastStart = performance.now();
      running.push(work().catch((err: unknown): Sample => ({ requestMs: Number.NaN, outcome: `error: ${(err as Error).message}` })).then((s) => { samples.push(s); }));
    }
    await Promise.all(running);
  } finally {
    clearInterval(timer);
  }
  const arrivalSeconds = (lastStart - start) / 1000;
  return { samples, seconds: (performance.now() - start) / 1000, achievedRate: total > 1 && arrivalSeconds > 0 ? (total - 1) / arrivalSeconds : undefined };
}
