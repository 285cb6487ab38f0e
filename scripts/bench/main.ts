import { jetstream } from '@nats-io/jetstream';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import pino from 'pino';
import { loadConfig } from '../../common/config';
import { connectNats, natsManager } from '../../common/nats';
import { migrate } from '../../prisma/migrate';
import { ensureTools, freePort, startNats, startPostgres, type StartedService } from '../infra';
import { assertValid, orderLifecycle, orderPlaced } from './events';
import { lagPhase } from './lag';
import { parseOptions } from './options';
import { describeMachine, reportJson, reportTable } from './report';
import { bounded, progress, type Bench } from './rig';
import { consumerThroughput, rawPublish, relayCapacity } from './throughput';

/**
 * `npm run bench:events` (`-- --help` for its options): throughput and latency of the event pipeline on this machine, against
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

    // The benchmark's private nats-server has no users (startNats without authorization).
    const nc = await connectNats({ NATS_URL: nats.url, NATS_USER: undefined, NATS_PASSWORD: undefined }, 'admin', { name: 'bench', waitOnFirstConnect: true });
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

    const results = {
      opts, avgBytes, lifecycleEvents: lifecycles.length, raw, relayDistinct, relayPerOrder, lag, consumer,
      machine: describeMachine(loadAtStart, loadAtEnd, pgVersion, nc.info?.version ?? 'unknown'),
    };
    console.log(opts.json ? reportJson(results) : reportTable(results));
  } finally {
    progress('stopping');
    await cleanup();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  progress(`failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
