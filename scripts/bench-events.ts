import { jetstream, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { arch, cpus, loadavg, platform, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import pino from 'pino';
import { loadConfig, type Config } from '../common/config';
import type { EventEnvelope } from '../common/events';
import { connectNats, ensureEventsStream, natsManager } from '../common/nats';
import type { RunningProcess } from '../common/run-process';
import { migrate } from '../prisma/migrate';
import { ANALYTICS_CONSUMER, startAnalyticsConsumer } from '../workers/analytics-consumer';
import { assertValid, insertOutboxRowInTransaction, insertOutboxRowsInOneTransaction, median, orderLifecycle, orderPlaced, percentile } from './bench/events';
import { ensureTools, freePort, startNats, startPostgres, type StartedService } from './infra';

/**
 * `npm run bench:events`: throughput and latency of the event pipeline on this machine, against
 * its own embedded Postgres and nats-server (JetStream, fsync before ack) in a temp dir:
 *   1. raw JetStream publish, without and with a Nats-Msg-Id (the cost of dedup), median of rounds;
 *   2. outbox relay capacity: rows committed all at once to an idle relay that is already leader;
 *   3. lag from an outbox COMMIT to a subscriber receiving the event, at half the relay's
 *      capacity and at a low rate;
 *   4. analytics consumer throughput (inbox + read model) on the events of step 2.
 * As in production, the relay runs as its own process (workers/outbox-relay.main.ts) in steps 2
 * and 3, so it does not share an event loop with the writers and the subscriber of this process.
 * Figures print as a table (or JSON with --json); missed targets are reported, not failed.
 * Progress (and the relay's log) goes to stderr.
 */

const USAGE = `Usage: tsx scripts/bench-events.ts [options]
  --events N         events per throughput measurement (default 20000)
  --lag-seconds S    duration of each lag run (default 10)
  --low-rate R       events/s of the low-rate lag run (default 50)
  --batch-size N     RELAY_BATCH_SIZE (default 500)
  --window N         raw publishes in flight per window (default 500, like a relay batch)
  --rounds N         raw publish rounds per variant, alternating which goes first; the median is
                     reported (default 3)
  --concurrency N    CONSUMER_CONCURRENCY of the analytics consumer (default 16)
  --writers N        writer connections of the lag runs (default 8)
  --json             print the figures as JSON instead of a table
  --keep             keep the temp dir (Postgres data, nats-server log)`;

const TARGETS = { relayVsRaw: 0.3, lagP50Ms: 5, lagP99Ms: 50 };
/** No progress for this long means something is stuck: fail instead of hanging. */
const STALL_MS = 30_000;

interface Options {
  events: number; lagSeconds: number; lowRate: number; batchSize: number; window: number;
  rounds: number; concurrency: number; writers: number; json: boolean; keep: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '20000' },
      'lag-seconds': { type: 'string', default: '10' },
      'low-rate': { type: 'string', default: '50' },
      'batch-size': { type: 'string', default: '500' },
      window: { type: 'string', default: '500' },
      rounds: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '16' },
      writers: { type: 'string', default: '8' },
      json: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) { console.log(USAGE); process.exit(0); }
  const positive = (name: string, raw: string): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) { console.error(`--${name} must be a positive number, got '${raw}'\n${USAGE}`); process.exit(2); }
    return n;
  };
  return {
    events: Math.floor(positive('events', values.events)),
    lagSeconds: positive('lag-seconds', values['lag-seconds']),
    lowRate: positive('low-rate', values['low-rate']),
    batchSize: Math.floor(positive('batch-size', values['batch-size'])),
    window: Math.floor(positive('window', values.window)),
    rounds: Math.floor(positive('rounds', values.rounds)),
    concurrency: Math.floor(positive('concurrency', values.concurrency)),
    writers: Math.floor(positive('writers', values.writers)),
    json: values.json,
    keep: values.keep,
  };
}

/** Settles within `ms` whatever `work` does; for cleanup, where a stuck step must not block the rest. */
async function bounded(work: Promise<unknown>, ms = 15_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise((resolve) => { timer = setTimeout(resolve, ms); })]);
  clearTimeout(timer);
}

const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const round = (n: number, digits = 0) => Number(n.toFixed(digits));

/** Polls `count` until it reaches `target`; fails if it stops moving for STALL_MS. */
async function waitForCount(what: string, target: number, count: () => Promise<number>, pollMs = 20): Promise<void> {
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

async function countRows(pool: Pool, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(sql, params);
  return Number(rows[0]!.n);
}

interface Bench {
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

async function startTracked<T extends RunningProcess>(bench: Bench, start: Promise<T>): Promise<T> {
  const p = await start;
  bench.running.add(p);
  return p;
}

async function stopTracked(bench: Bench, p: RunningProcess): Promise<void> {
  bench.running.delete(p);
  await p.stop();
}

// ---------------------------------------------------------------------------------------------
// 1. Raw publish

interface RawResult { withoutMsgId: number; withMsgId: number; rounds: { withoutMsgId: number[]; withMsgId: number[] } }

/** Publishes every payload in windows of `window` concurrent publishes; returns seconds taken. */
async function publishAll(bench: Bench, prefix: string, events: readonly EventEnvelope[], payloads: readonly string[], withMsgId: boolean): Promise<number> {
  const { js, opts } = bench;
  const start = performance.now();
  for (let i = 0; i < events.length; i += opts.window) {
    const window: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(i + opts.window, events.length); j += 1) {
      const e = events[j]!;
      window.push(js.publish(`${prefix}.${e.type}`, payloads[j]!, withMsgId ? { msgID: e.id } : undefined));
    }
    await Promise.all(window);
  }
  return (performance.now() - start) / 1000;
}

async function freshStream(bench: Bench, stream: string, prefix: string): Promise<void> {
  await ensureEventsStream(bench.jsm, bench.config(stream, prefix));
}

async function expectStreamMessages(bench: Bench, stream: string, expected: number): Promise<void> {
  const info = await bench.jsm.streams.info(stream);
  if (info.state.messages !== expected) throw new Error(`stream ${stream} holds ${info.state.messages} messages, expected ${expected}`);
}

async function rawPublish(bench: Bench, events: readonly EventEnvelope[]): Promise<RawResult> {
  const payloads = events.map((e) => JSON.stringify(e));
  progress('1. raw publish: warming up');
  await freshStream(bench, 'BENCH_WARMUP', 'bench.warmup');
  const warmup = events.slice(0, Math.min(events.length, 2_000));
  await publishAll(bench, 'bench.warmup', warmup, payloads, true);

  const seconds = { withoutMsgId: [] as number[], withMsgId: [] as number[] };
  for (let r = 1; r <= bench.opts.rounds; r += 1) {
    // Alternate which variant goes first, so drift in machine load hits both alike.
    const order: (keyof typeof seconds)[] = r % 2 === 1 ? ['withoutMsgId', 'withMsgId'] : ['withMsgId', 'withoutMsgId'];
    for (const variant of order) {
      const withMsgId = variant === 'withMsgId';
      const stream = `BENCH_RAW${r}_${withMsgId ? 'MSGID' : 'NOID'}`;
      const prefix = `bench.raw${r}.${withMsgId ? 'msgid' : 'noid'}`;
      await freshStream(bench, stream, prefix);
      const s = await publishAll(bench, prefix, events, payloads, withMsgId);
      await expectStreamMessages(bench, stream, events.length);
      seconds[variant].push(s);
      progress(`1. raw publish round ${r} ${withMsgId ? 'with msgID   ' : 'without msgID'}: ${round(events.length / s)} events/s`);
    }
  }
  // The median, not the mean: one round slowed by other load on the machine should not move the figure.
  const rates = (list: number[]) => list.map((s) => events.length / s);
  return {
    withoutMsgId: median(rates(seconds.withoutMsgId)),
    withMsgId: median(rates(seconds.withMsgId)),
    rounds: { withoutMsgId: rates(seconds.withoutMsgId).map((r) => round(r)), withMsgId: rates(seconds.withMsgId).map((r) => round(r)) },
  };
}

// ---------------------------------------------------------------------------------------------
// The relay, as its own process

const repoRoot = join(__dirname, '..');
const LEADER_METRIC = /^outbox_relay_leader\{process="outbox-relay"\} 1$/m;

interface RelayProcess extends RunningProcess {
  /** Throws if the process has exited, so a measurement fails at once instead of stalling. */
  assertRunning(): void;
}

function prefixLines(stream: Readable, prefix: string): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => process.stderr.write(`${prefix} ${line}\n`));
}

/**
 * Starts workers/outbox-relay.main.ts as a child process, as it runs in production, and resolves
 * once it is the leader (holds the advisory lock), as its /metrics reports.
 */
async function startRelayProcess(config: Config): Promise<RelayProcess> {
  const metricsPort = await freePort();
  const child = spawn(join(repoRoot, 'node_modules/.bin/tsx'), ['workers/outbox-relay.main.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DATABASE_URL: config.DATABASE_URL,
      NATS_URL: config.NATS_URL,
      EVENTS_STREAM: config.EVENTS_STREAM,
      EVENTS_SUBJECT_PREFIX: config.EVENTS_SUBJECT_PREFIX,
      RELAY_BATCH_SIZE: String(config.RELAY_BATCH_SIZE),
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: tsx runs the relay in a grandchild, which a SIGKILL of tsx alone would orphan.
    detached: true,
  });
  // The relay logs to stdout, but our stdout carries the results (and --json): both go to stderr.
  prefixLines(child.stdout!, '[relay]');
  prefixLines(child.stderr!, '[relay]');
  let exitStatus: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => { exitStatus ??= `could not start: ${err.message}`; resolve(); });
    child.once('exit', (code, signal) => { exitStatus ??= signal ?? `code ${code}`; resolve(); });
  });

  let stopping: Promise<void> | undefined;
  const relay: RelayProcess = {
    assertRunning() {
      if (exitStatus !== undefined) throw new Error(`the relay process exited (${exitStatus})`);
    },
    stop: () => stopping ??= (async () => {
      if (exitStatus !== undefined) return;
      child.kill('SIGTERM'); // tsx passes it on; the relay finishes its batch and exits
      const killer = setTimeout(() => {
        progress('relay process still running 10 s after SIGTERM: SIGKILL');
        try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
      }, 10_000);
      await exited;
      clearTimeout(killer);
    })(),
  };

  try {
    const deadline = performance.now() + STALL_MS;
    for (;;) {
      relay.assertRunning();
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text(), () => '');
      if (LEADER_METRIC.test(metrics)) return relay;
      if (performance.now() > deadline) throw new Error(`the relay process was not the leader within ${STALL_MS / 1000} s`);
      await sleep(100);
    }
  } catch (err) {
    await relay.stop();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Relay capacity

/**
 * The relay's batch query plan depends on the table's statistics. Vacuumed and analyzed before
 * each relay phase (before the new rows arrive), the table is as autovacuum keeps it in
 * production; without this, statistics left from an earlier phase (e.g. "every row unpublished")
 * pick a plan that walks all published rows on every batch.
 */
async function vacuumOutbox(pool: Pool): Promise<void> {
  await pool.query('VACUUM ANALYZE outbox_events');
}

async function relayCapacity(bench: Bench, label: string, events: readonly EventEnvelope[], stream: string, prefix: string): Promise<{ eventsPerSec: number; seconds: number }> {
  const { pool } = bench;
  await vacuumOutbox(pool);
  const config = bench.config(stream, prefix, { RELAY_BATCH_SIZE: String(bench.opts.batchSize) });
  await ensureEventsStream(bench.jsm, config);
  // Started, and the leader, before the rows exist, so its boot time stays out of the figure.
  progress(`2. relay capacity (${label}): starting the relay process`);
  const relay = await startTracked(bench, startRelayProcess(config));
  let seconds: number;
  try {
    progress(`2. relay capacity (${label}): committing ${events.length} outbox rows in one transaction`);
    await insertOutboxRowsInOneTransaction(pool, events);
    const start = performance.now();
    await waitForCount(`relay (${label}) published`, events.length, async () => {
      relay.assertRunning();
      return events.length - await countRows(pool, 'SELECT count(*) AS n FROM outbox_events WHERE published_at IS NULL');
    });
    seconds = (performance.now() - start) / 1000;
  } finally {
    await stopTracked(bench, relay);
  }
  await expectStreamMessages(bench, stream, events.length);
  const eventsPerSec = events.length / seconds;
  progress(`2. relay capacity (${label}): ${round(eventsPerSec)} events/s (${round(seconds, 2)} s)`);
  return { eventsPerSec, seconds };
}

// ---------------------------------------------------------------------------------------------
// 3. Lag

interface LagResult {
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

interface LagPhase { writerMaxRate: number; halfCapacityRate: number; cappedByWriter: boolean; runs: LagResult[] }

async function lagPhase(bench: Bench, relayCapacityPerSec: number): Promise<LagPhase> {
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

// ---------------------------------------------------------------------------------------------
// 4. Analytics consumer

async function consumerThroughput(bench: Bench, stream: string, prefix: string, expected: number): Promise<{ eventsPerSec: number; seconds: number }> {
  const { pool, opts } = bench;
  const config = bench.config(stream, prefix, { CONSUMER_CONCURRENCY: String(opts.concurrency) });
  progress(`4. analytics consumer: ${expected} events, concurrency ${opts.concurrency}`);
  const start = performance.now();
  const consumer = await startTracked(bench, startAnalyticsConsumer(config, bench.logger));
  await waitForCount('analytics consumer processed', expected,
    () => countRows(pool, 'SELECT count(*) AS n FROM processed_events WHERE consumer = $1', [ANALYTICS_CONSUMER]), 50);
  const seconds = (performance.now() - start) / 1000;
  await stopTracked(bench, consumer);
  const projected = await countRows(pool, 'SELECT count(*) AS n FROM analytics_orders');
  if (projected !== expected) throw new Error(`analytics_orders holds ${projected} rows, expected ${expected}`);
  const eventsPerSec = expected / seconds;
  progress(`4. analytics consumer: ${round(eventsPerSec)} events/s (${round(seconds, 2)} s)`);
  return { eventsPerSec, seconds };
}

// ---------------------------------------------------------------------------------------------
// Report

function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const verdict = (met: boolean) => (met ? 'target met' : 'MISSED');
const pct = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)} %`;

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions();
  const work = mkdtempSync(join(tmpdir(), 'orders-bench-'));
  chmodSync(work, 0o777); // embedded Postgres runs as its own system user when we are root
  const infra: StartedService[] = [];
  let bench: Bench | undefined;

  let cleaning: Promise<void> | undefined;
  const cleanup = () => cleaning ??= (async () => {
    if (bench) {
      // Each step is bounded: after Ctrl-C the servers may already be gone, and a NATS client
      // waiting to reconnect would otherwise hold the cleanup forever.
      await Promise.allSettled([...bench.running].map((p) => bounded(p.stop())));
      await bounded(bench.nc.close());
      await bounded(bench.pool.end());
    }
    await Promise.allSettled(infra.reverse().map((s) => bounded(s.stop())));
    if (opts.keep) progress(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  })();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // `on`, not `once`: a second signal (Ctrl-C reaches tsx and this process both) must not kill us mid-cleanup.
    process.on(signal, () => {
      if (cleaning) return;
      progress(`${signal}: stopping`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  try {
    const loadAtStart = loadavg();
    progress(`work dir ${work}`);
    const tools = await ensureTools(['nats']);
    const [pg, nats] = await Promise.all([
      freePort().then((port) => startPostgres({ dir: join(work, 'postgres'), port, persistent: false })),
      freePort().then((port) => startNats({ bin: tools.NATS_SERVER_BIN!, dir: join(work, 'nats'), port, logFile: join(work, 'nats.log') })),
    ]);
    infra.push(pg, nats);
    await pg.ensureDatabase('bench');
    const databaseUrl = pg.urlFor('bench');
    await migrate(databaseUrl);
    progress(`postgres ${databaseUrl}, nats ${nats.url}`);

    const nc = await connectNats(nats.url, 'bench', { waitOnFirstConnect: true });
    const pool = new Pool({ connectionString: databaseUrl, max: 4 });
    pool.on('error', () => undefined);
    bench = {
      opts, pool, nc,
      js: jetstream(nc),
      jsm: await natsManager(nc),
      config: (stream, prefix, extra = {}) => loadConfig({
        DATABASE_URL: databaseUrl, NATS_URL: nats.url, EVENTS_STREAM: stream, EVENTS_SUBJECT_PREFIX: prefix, ...extra,
      }),
      logger: pino({ name: 'bench', level: 'warn' }, pino.destination(2)),
      running: new Set(),
    };
    const pgVersion = (await pool.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;

    const placed = Array.from({ length: opts.events }, () => orderPlaced());
    const lifecycles = Array.from({ length: Math.max(1, Math.floor(opts.events / 5)) }, () => orderLifecycle()).flat();
    assertValid([...placed.slice(0, 100), ...lifecycles.slice(0, 100)]);
    const avgBytes = placed.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0) / placed.length;

    const raw = await rawPublish(bench, placed);
    // The same OrderPlaced events (one per order) go through the outbox, so relay and raw compare like for like.
    const relayDistinct = await relayCapacity(bench, 'one event per order', placed, 'BENCH_RELAY', 'bench.relay');
    const relayPerOrder = await relayCapacity(bench, '5 events per order', lifecycles, 'BENCH_RELAY5', 'bench.relay5');
    const lag = await lagPhase(bench, relayDistinct.eventsPerSec);
    const consumer = await consumerThroughput(bench, 'BENCH_RELAY', 'bench.relay', placed.length);
    const loadAtEnd = loadavg();

    const dedupRatio = raw.withMsgId / raw.withoutMsgId;
    const relayVsWith = relayDistinct.eventsPerSec / raw.withMsgId;
    const relayVsWithout = relayDistinct.eventsPerSec / raw.withoutMsgId;
    const machine = {
      cpus: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? 'unknown', node: process.version, platform: `${platform()} ${arch()}`,
      memoryGiB: round(totalmem() / 2 ** 30, 1),
      loadAvgAtStart: loadAtStart.map((l) => round(l, 2)), loadAvgAtEnd: loadAtEnd.map((l) => round(l, 2)),
      postgres: pgVersion, natsServer: nc.info?.version ?? 'unknown',
    };

    if (opts.json) {
      console.log(JSON.stringify({
        machine,
        settings: {
          events: opts.events, avgEventBytes: round(avgBytes), window: opts.window, rounds: opts.rounds, relayBatchSize: opts.batchSize, lagSeconds: opts.lagSeconds,
          writers: opts.writers, consumerConcurrency: opts.concurrency, relay: 'own process (workers/outbox-relay.main.ts); writers, subscriber and consumer in the bench process',
        },
        rawPublish: { aggregate: 'median', withoutMsgIdPerSec: round(raw.withoutMsgId), withMsgIdPerSec: round(raw.withMsgId), dedupRatio: round(dedupRatio, 3), rounds: raw.rounds },
        relay: {
          oneEventPerOrderPerSec: round(relayDistinct.eventsPerSec), fiveEventsPerOrderPerSec: round(relayPerOrder.eventsPerSec),
          vsRawWithMsgId: round(relayVsWith, 3), vsRawWithoutMsgId: round(relayVsWithout, 3), targetVsRawWithMsgId: TARGETS.relayVsRaw, targetMet: relayVsWith >= TARGETS.relayVsRaw,
        },
        lag: { ...lag, targets: { p50Ms: TARGETS.lagP50Ms, p99Ms: TARGETS.lagP99Ms } },
        consumer: { eventsPerSec: round(consumer.eventsPerSec), seconds: round(consumer.seconds, 2), concurrency: opts.concurrency },
      }, null, 2));
      return;
    }

    const out: string[] = [];
    out.push('Event pipeline benchmark');
    out.push(`machine   ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.platform}, node ${machine.node}`);
    out.push(`load avg  start ${machine.loadAvgAtStart.join(' / ')}, end ${machine.loadAvgAtEnd.join(' / ')} (1/5/15 min; other processes share the CPUs)`);
    out.push(`servers   Postgres ${machine.postgres} (embedded, synchronous_commit on), nats-server ${machine.natsServer} (JetStream file store, fsync before ack)`);
    out.push(`events    ${opts.events} OrderPlaced envelopes, ${round(avgBytes)} bytes on average`);
    out.push('processes the relay runs as its own process (workers/outbox-relay.main.ts), as in production;');
    out.push('          the writers, the NATS subscriber and the analytics consumer run in the bench process');
    out.push('          (outbox_events is VACUUM ANALYZEd before each relay phase, as autovacuum keeps it)');
    out.push('');
    out.push(`1. Raw JetStream publish (${opts.window} in flight per window, fresh stream each, median of ${opts.rounds} round${opts.rounds === 1 ? '' : 's'} per variant)`);
    out.push(table(['', 'events/s (median)', 'per round'], [
      ['without msgID', round(raw.withoutMsgId), raw.rounds.withoutMsgId.join(', ')],
      ['with msgID (uuid)', round(raw.withMsgId), raw.rounds.withMsgId.join(', ')],
      ['dedup-id cost', `${round(dedupRatio, 3)}x`, `${pct(dedupRatio)} with msgID`],
    ]));
    out.push('');
    out.push(`2. Outbox relay capacity (RELAY_BATCH_SIZE ${opts.batchSize}; relay process started and leader first, then the rows committed`);
    out.push('   in one transaction; timed from COMMIT returning to all rows marked)');
    out.push(table(['', 'events/s', 'seconds', 'vs raw with msgID', 'vs raw without', `target >= ${TARGETS.relayVsRaw} of raw with msgID`], [
      ['one event per order', round(relayDistinct.eventsPerSec), round(relayDistinct.seconds, 2), round(relayVsWith, 3), round(relayVsWithout, 3), verdict(relayVsWith >= TARGETS.relayVsRaw)],
      ['5 events per order', round(relayPerOrder.eventsPerSec), round(relayPerOrder.seconds, 2),
        round(relayPerOrder.eventsPerSec / raw.withMsgId, 3), round(relayPerOrder.eventsPerSec / raw.withoutMsgId, 3), 'n/a'],
    ]));
    out.push('   A batch carries at most one event per order, so the capacity run gives every row its own order;');
    out.push(`   the second row has ${lifecycles.length / 5} orders x 5 events written back to back (worst case for batching).`);
    out.push('');
    out.push(`3. Lag: outbox COMMIT returned -> core NATS subscriber received (${opts.writers} writer connections, one transaction per event, ${opts.lagSeconds} s per run)`);
    out.push(table(['', 'target/s', 'achieved/s', 'count', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', `p50 <= ${TARGETS.lagP50Ms} ms`, `p99 <= ${TARGETS.lagP99Ms} ms`],
      lag.runs.map((r) => [r.name, r.targetRate, r.achievedRate, r.missing ? `${r.count} (${r.missing} missing)` : r.count, r.p50, r.p90, r.p99, r.max, verdict(r.p50Met), verdict(r.p99Met)])));
    out.push(`   Half of the relay's capacity is ${lag.halfCapacityRate}/s; the writers top out at ${lag.writerMaxRate}/s with the relay running` +
      (lag.cappedByWriter ? `, so the run was capped at 80 % of that.` : '.'));
    out.push('');
    out.push(`4. Analytics consumer (CONSUMER_CONCURRENCY ${opts.concurrency}, fresh durable, ${opts.events} OrderPlaced from step 2, timed from start to all in processed_events)`);
    out.push(table(['', 'events/s', 'seconds'], [['analytics', round(consumer.eventsPerSec), round(consumer.seconds, 2)]]));
    console.log(out.join('\n'));
  } finally {
    progress('stopping');
    await cleanup();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  progress(`failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
