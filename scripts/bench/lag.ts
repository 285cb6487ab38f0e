import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'pg';
import type { EventEnvelope } from '../../common/events';
import { ensureEventsStream } from '../../common/nats';
import { insertOutboxRowInTransaction, orderPlaced, percentile } from './events';
import { TARGETS } from './options';
import { startRelayProcess } from './relay-process';
import { countRows, progress, round, startTracked, stopTracked, vacuumOutbox, waitForCount, type Bench } from './rig';

/**
 * Step 3 of the benchmark: lag from an outbox COMMIT to a core NATS subscriber receiving the
 * event, at half the relay's capacity and at a low rate, with the relay as its own process.
 */

export interface LagResult {
  name: string;
  targetRate: number;
  achievedRate: number;
  count: number;
  missing: number;
  p50: number; p90: number; p99: number; max: number;
  p50Met: boolean; p99Met: boolean;
}

interface LagRig {
  writers: Pool;
  /** When the subscriber received each event id (performance.now()). */
  received: Map<string, number>;
}

async function writeOne(rig: LagRig, e: EventEnvelope, committed?: Map<string, number>): Promise<void> {
  await insertOutboxRowInTransaction(rig.writers, e);
  committed?.set(e.id, performance.now());
}

async function waitForReceived(rig: LagRig, ids: Iterable<string>, timeoutMs = 15_000): Promise<void> {
  const wanted = [...ids];
  const deadline = performance.now() + timeoutMs;
  while (wanted.some((id) => !rig.received.has(id)) && performance.now() < deadline) await sleep(10);
}

async function waitForOutboxDrained(pool: Pool): Promise<void> {
  const unpublished = () => countRows(pool, 'SELECT count(*) AS n FROM outbox_events WHERE published_at IS NULL');
  const backlog = await unpublished();
  await waitForCount('outbox drained', backlog, async () => backlog - await unpublished());
}

/** The writers' top rate, closed loop, with the relay process publishing alongside as in production. */
async function writerMaxRate(bench: Bench, rig: LagRig, seconds = 2): Promise<number> {
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(Array.from({ length: bench.opts.writers }, async () => {
    while (performance.now() < end) {
      await writeOne(rig, orderPlaced());
      done += 1;
    }
  }));
  const rate = done / ((performance.now() - start) / 1000);
  await waitForOutboxDrained(bench.pool);
  return rate;
}

/**
 * Writes `rate` events/s for the lag duration, each in its own transaction, at most one per
 * writer connection at a time; lag = subscriber receive time - the time COMMIT returned.
 */
async function lagRun(bench: Bench, rig: LagRig, name: string, rate: number): Promise<LagResult> {
  const { opts } = bench;
  const total = Math.max(1, Math.round(rate * opts.lagSeconds));
  const committed = new Map<string, number>();
  const interval = 1000 / rate;
  let inFlight = 0;
  let slotFreed: (() => void) | undefined;
  const writes: Promise<void>[] = [];
  progress(`3. lag (${name}): ${total} events at ${round(rate)} events/s over ${opts.lagSeconds} s`);
  const start = performance.now();
  for (let i = 0; i < total; i += 1) {
    const wait = start + i * interval - performance.now();
    if (wait >= 1) await sleep(wait);
    while (inFlight >= opts.writers) await new Promise<void>((resolve) => { slotFreed = resolve; });
    inFlight += 1;
    writes.push(writeOne(rig, orderPlaced(), committed).finally(() => {
      inFlight -= 1;
      slotFreed?.();
      slotFreed = undefined;
    }));
  }
  await Promise.all(writes);
  let lastCommit = start;
  for (const t of committed.values()) lastCommit = Math.max(lastCommit, t);
  const achievedRate = committed.size / ((lastCommit - start) / 1000);
  await waitForReceived(rig, committed.keys());

  const lags: number[] = [];
  for (const [id, committedAt] of committed) {
    const receivedAt = rig.received.get(id);
    // The subscriber can get an event a hair before the writer sees its COMMIT return.
    if (receivedAt !== undefined) lags.push(Math.max(0, receivedAt - committedAt));
  }
  lags.sort((a, b) => a - b);
  const [p50, p90, p99] = [50, 90, 99].map((p) => round(percentile(lags, p), 2)) as [number, number, number];
  const result: LagResult = {
    name,
    targetRate: round(rate),
    achievedRate: round(achievedRate),
    count: lags.length,
    missing: committed.size - lags.length,
    p50, p90, p99,
    max: round(lags.at(-1) ?? Number.NaN, 2),
    p50Met: p50 <= TARGETS.lagP50Ms,
    p99Met: p99 <= TARGETS.lagP99Ms,
  };
  progress(`3. lag (${name}): achieved ${result.achievedRate} events/s, p50 ${p50} ms, p99 ${p99} ms, max ${result.max} ms`);
  return result;
}

export interface LagPhase { writerMaxRate: number; halfCapacityRate: number; cappedByWriter: boolean; runs: LagResult[] }

export async function lagPhase(bench: Bench, relayCapacityPerSec: number): Promise<LagPhase> {
  const { opts, pool } = bench;
  const prefix = 'bench.lag';
  const config = bench.config('BENCH_LAG', prefix, { RELAY_BATCH_SIZE: String(opts.batchSize) });
  await ensureEventsStream(bench.jsm, config);
  const rig: LagRig = { writers: new Pool({ connectionString: config.DATABASE_URL, max: opts.writers }), received: new Map() };
  rig.writers.on('error', () => undefined);
  const sub = bench.nc.subscribe(`${prefix}.>`, {
    callback: (err, msg) => {
      const at = performance.now();
      if (err) return;
      const id = msg.headers?.get('Nats-Msg-Id') || (JSON.parse(msg.string()) as { id: string }).id;
      rig.received.set(id, at);
    },
  });
  try {
    await vacuumOutbox(pool);
    progress('3. lag: starting the relay process');
    const relay = await startTracked(bench, startRelayProcess(config));
    try {
      progress('3. lag: warming up (stream, connections)');
      const warmup = Array.from({ length: 50 }, () => orderPlaced());
      for (const e of warmup) await writeOne(rig, e);
      await waitForReceived(rig, warmup.map((e) => e.id));
      if (warmup.some((e) => !rig.received.has(e.id))) throw new Error('warm-up events did not reach the subscriber within 15 s');

      progress(`3. lag: measuring the writers' top rate (${opts.writers} connections, 2 s)`);
      const writerMax = await writerMaxRate(bench, rig);
      progress(`3. lag: writers sustain ${round(writerMax)} events/s`);
      // A writer run at its very limit queues on its own connections; stay below it.
      const half = relayCapacityPerSec / 2;
      const cappedByWriter = half > writerMax * 0.8;
      const halfRate = cappedByWriter ? writerMax * 0.8 : half;
      await sleep(500);

      const runs = [await lagRun(bench, rig, 'half relay capacity', halfRate)];
      await waitForOutboxDrained(pool);
      await sleep(500);
      runs.push(await lagRun(bench, rig, 'low rate', opts.lowRate));
      return { writerMaxRate: round(writerMax), halfCapacityRate: round(half), cappedByWriter, runs };
    } finally {
      await stopTracked(bench, relay);
    }
  } finally {
    sub.unsubscribe();
    await rig.writers.end();
  }
}
