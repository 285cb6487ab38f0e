import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'pg';
import type pino from 'pino';
import type { Config } from '../../common/config';
import { ensureEventsStream } from '../../common/nats';
import type { RunningProcess } from '../../common/run-process';
import { STALL_MS, type Options } from './options';

/** What every measurement of the benchmark shares: connections, configs, progress and waiting. */

/** Settles within `ms` whatever `work` does; for cleanup, where a stuck step must not block the rest. */
export async function bounded(work: Promise<unknown>, ms = 15_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise((resolve) => { timer = setTimeout(resolve, ms); })]);
  clearTimeout(timer);
}

export const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
export const round = (n: number, digits = 0) => Number(n.toFixed(digits));

/** Polls `count` until it reaches `target`; fails if it stops moving for STALL_MS. */
export async function waitForCount(what: string, target: number, count: () => Promise<number>, pollMs = 20): Promise<void> {
  let last = -1;
  let lastChange = performance.now();
  let lastReport = performance.now();
  for (;;) {
    const n = await count();
    if (n >= target) return;
    const now = performance.now();
    if (n !== last) { last = n; lastChange = now; }
    if (now - lastChange > STALL_MS) throw new Error(`${what}: stuck at ${n}/${target} for ${STALL_MS / 1000} s`);
    if (now - lastReport > 2_000) { progress(`  ${what}: ${n}/${target}`); lastReport = now; }
    await sleep(pollMs);
  }
}

export async function countRows(pool: Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(sql, params);
  return Number(rows[0]!.n);
}

export interface Bench {
  opts: Options;
  pool: Pool;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Config for a measurement with its own stream and subject prefix. */
  config(stream: string, prefix: string, extra?: Record<string, string>): Config;
  logger: pino.Logger;
  /** Started relays and consumers, stopped in `finally` if a measurement fails. */
  running: Set<RunningProcess>;
}

export async function startTracked<T extends RunningProcess>(bench: Bench, start: Promise<T>): Promise<T> {
  const p = await start;
  bench.running.add(p);
  return p;
}

export async function stopTracked(bench: Bench, p: RunningProcess): Promise<void> {
  bench.running.delete(p);
  await p.stop();
}

export async function freshStream(bench: Bench, stream: string, prefix: string): Promise<void> {
  await ensureEventsStream(bench.jsm, bench.config(stream, prefix));
}

export async function expectStreamMessages(bench: Bench, stream: string, expected: number): Promise<void> {
  const info = await bench.jsm.streams.info(stream);
  if (info.state.messages !== expected) throw new Error(`stream ${stream} holds ${info.state.messages} messages, expected ${expected}`);
}


/**
 * The relay's batch query plan depends on the table's statistics. Vacuumed and analyzed before
 * each relay phase (before the new rows arrive), the table is as autovacuum keeps it in
 * production; without this, statistics left from an earlier phase (e.g. "every row unpublished")
 * pick a plan that walks all published rows on every batch.
 */
export async function vacuumOutbox(pool: Pool): Promise<void> {
  await pool.query('VACUUM ANALYZE outbox_events');
}
