import { parseArgs } from 'node:util';

/** Command line of the event pipeline benchmark (`npm run bench:events -- --help`). */

export const USAGE = `Usage: npm run bench:events -- [options]
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

export const TARGETS = { relayVsRaw: 0.3, lagP50Ms: 5, lagP99Ms: 50 };
/** No progress for this long means something is stuck: fail instead of hanging. */
export const STALL_MS = 30_000;

export interface Options {
  events: number; lagSeconds: number; lowRate: number; batchSize: number; window: number;
  rounds: number; concurrency: number; writers: number; json: boolean; keep: boolean;
}

export function parseOptions(): Options {
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
