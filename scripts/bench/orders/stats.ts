import { percentile } from '../events';

/** Latency figures of one run, in milliseconds (NaN when nothing was measured). */
export interface Latency { count: number; p50: number; p90: number; p99: number; max: number }

const ms = (n: number) => Number(n.toFixed(1));

/** p50/p90/p99 (nearest rank) and max of a list of durations in milliseconds, in any order. */
export function summarize(durations: readonly number[]): Latency {
  const sorted = [...durations].sort((a, b) => a - b);
  const at = (p: number) => ms(percentile(sorted, p));
  return { count: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: ms(sorted.at(-1) ?? Number.NaN) };
}

/** Parses a comma-separated list of positive whole numbers ("1,8,32,64"). */
export function parseLevels(raw: string): number[] {
  const levels = raw.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!levels.length || levels.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`expected a comma-separated list of positive whole numbers such as 1,8,32,64, got '${raw}'`);
  }
  return levels;
}
