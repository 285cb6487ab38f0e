import { arch, cpus, platform, totalmem } from 'node:os';
import type { LagPhase } from './lag';
import { TARGETS, type Options } from './options';
import { round } from './rig';
import type { RawResult, Throughput } from './throughput';

/** The benchmark's figures, as a table or (--json) as JSON. */

export interface Machine {
  cpus: number; cpuModel: string; node: string; platform: string; memoryGiB: number;
  loadAvgAtStart: number[]; loadAvgAtEnd: number[]; postgres: string; natsServer: string;
}

export function describeMachine(loadAtStart: number[], loadAtEnd: number[], postgres: string, natsServer: string): Machine {
  return {
    cpus: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? 'unknown', node: process.version, platform: `${platform()} ${arch()}`,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    loadAvgAtStart: loadAtStart.map((l) => round(l, 2)), loadAvgAtEnd: loadAtEnd.map((l) => round(l, 2)),
    postgres, natsServer,
  };
}

export interface Results {
  opts: Options;
  machine: Machine;
  avgBytes: number;
  /** Events of the 5-events-per-order relay run. */
  lifecycleEvents: number;
  raw: RawResult;
  relayDistinct: Throughput;
  relayPerOrder: Throughput;
  lag: LagPhase;
  consumer: Throughput;
}

function ratios({ raw, relayDistinct }: Results) {
  return {
    dedupRatio: raw.withMsgId / raw.withoutMsgId,
    relayVsWith: relayDistinct.eventsPerSec / raw.withMsgId,
    relayVsWithout: relayDistinct.eventsPerSec / raw.withoutMsgId,
  };
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const verdict = (met: boolean) => (met ? 'target met' : 'MISSED');
const pct = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)} %`;

export function reportJson(results: Results): string {
  const { opts, machine, avgBytes, raw, relayDistinct, relayPerOrder, lag, consumer } = results;
  const { dedupRatio, relayVsWith, relayVsWithout } = ratios(results);
  return JSON.stringify({
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
  }, null, 2);
}

export function reportTable(results: Results): string {
  const { opts, machine, avgBytes, raw, relayDistinct, relayPerOrder, lag, consumer } = results;
  const { dedupRatio, relayVsWith, relayVsWithout } = ratios(results);
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
  out.push(`   the second row has ${results.lifecycleEvents / 5} orders x 5 events written back to back (worst case for batching).`);
  out.push('');
  out.push(`3. Lag: outbox COMMIT returned -> core NATS subscriber received (${opts.writers} writer connections, one transaction per event, ${opts.lagSeconds} s per run)`);
  out.push(table(['', 'target/s', 'achieved/s', 'count', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', `p50 <= ${TARGETS.lagP50Ms} ms`, `p99 <= ${TARGETS.lagP99Ms} ms`],
    lag.runs.map((r) => [r.name, r.targetRate, r.achievedRate, r.missing ? `${r.count} (${r.missing} missing)` : r.count, r.p50, r.p90, r.p99, r.max, verdict(r.p50Met), verdict(r.p99Met)])));
  out.push(`   Half of the relay's capacity is ${lag.halfCapacityRate}/s; the writers top out at ${lag.writerMaxRate}/s with the relay running` +
    (lag.cappedByWriter ? `, so the run was capped at 80 % of that.` : '.'));
  out.push('');
  out.push(`4. Analytics consumer (CONSUMER_CONCURRENCY ${opts.concurrency}, fresh durable, ${opts.events} OrderPlaced from step 2, timed from start to all in processed_events)`);
  out.push(table(['', 'events/s', 'seconds'], [['analytics', round(consumer.eventsPerSec), round(consumer.seconds, 2)]]));
  return out.join('\n');
}
