import { jetstream, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { loadConfig, type Config } from '../../common/config';
import { connectNats, dlqStreamName, natsManager, requireStream } from '../../common/nats';
import { dropDeadLetter, getDeadLetter, listDeadLetters, replayDeadLetter, type DeadLetter } from '../../workers/dead-letters';
import { UsageError, type OpsCommand, type OptionValues } from './command';

/**
 * `ops dlq ...`: the dead-letter stream (see workers/dead-letters.ts). Uses NATS_URL,
 * EVENTS_STREAM and EVENTS_SUBJECT_PREFIX like every other process, as the `dlq` NATS user
 * (NATS_USER/NATS_PASSWORD; common/nats-users.ts).
 */

function orderIdOf(letter: DeadLetter): string {
  try {
    const parsed = JSON.parse(Buffer.from(letter.data).toString('utf8')) as { orderId?: unknown; id?: unknown };
    return typeof parsed.orderId === 'string' ? parsed.orderId : '?';
  } catch {
    return '(not JSON)';
  }
}

function printList(letters: DeadLetter[]): void {
  if (letters.length === 0) {
    console.log('no dead letters');
    return;
  }
  const rows = letters.map((l) => [String(l.seq), l.failedAt.toISOString(), l.consumer, l.eventType, orderIdOf(l), String(l.deliveries), l.reason.slice(0, 80)]);
  const header = ['seq', 'failed at', 'consumer', 'event type', 'order', 'deliveries', 'reason'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  console.log(`${letters.length} dead letter(s)`);
}

function printOne(letter: DeadLetter): void {
  const body = Buffer.from(letter.data).toString('utf8');
  let pretty = body;
  try { pretty = JSON.stringify(JSON.parse(body), null, 2); } catch { /* show the raw bytes as text */ }
  console.log([
    `seq:         ${letter.seq}`, `failed at:   ${letter.failedAt.toISOString()}`, `consumer:    ${letter.consumer}`,
    `event type:  ${letter.eventType}`, `from:        ${letter.stream} #${letter.streamSeq} (${letter.subject})`,
    `deliveries:  ${letter.deliveries}`, `reason:      ${letter.reason}`, 'event:', pretty,
  ].join('\n'));
}

function seqArg(value: string | undefined): number {
  const seq = Number(value);
  if (!Number.isInteger(seq) || seq <= 0) throw new UsageError(`"${value ?? ''}" is not a dead-letter sequence number (see \`npm run ops -- dlq list\`)`);
  return seq;
}

interface Dlq { config: Config; js: JetStreamClient; jsm: JetStreamManager }

/** Runs `work` connected to NATS, with the dead-letter stream in place. */
async function withDlq(work: (dlq: Dlq) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const nc = await connectNats(config, 'dlq', { name: 'dlq-cli' });
  try {
    const jsm = await natsManager(nc);
    await requireStream(jsm, dlqStreamName(config));
    await work({ config, js: jetstream(nc), jsm });
  } finally {
    await nc.drain();
  }
}

const consumerOption = { consumer: { type: 'string' } } as const;
const consumerFilter = (values: OptionValues) => ({ consumer: values.consumer as string | undefined });

export const dlqCommands: OpsCommand[] = [
  {
    name: 'dlq list', args: '[--consumer <name>]', summary: 'dead letters, oldest first: consumer, event, order, deliveries, reason',
    options: consumerOption,
    run: (_, values) => withDlq(async ({ config, jsm }) => printList(await listDeadLetters(jsm, config, consumerFilter(values)))),
  },
  {
    name: 'dlq show', args: '<seq>', summary: 'one dead letter: why it failed, and the event',
    run: ([seqText]) => withDlq(async ({ config, jsm }) => {
      const letter = await getDeadLetter(jsm, config, seqArg(seqText));
      if (!letter) throw new UsageError(`no dead letter #${seqText} in ${dlqStreamName(config)}`);
      printOne(letter);
    }),
  },
  {
    name: 'dlq replay', args: '<seq>... | --all [--consumer <name>]', summary: 'after a fix: send back to its consumer (only that one)',
    options: { ...consumerOption, all: { type: 'boolean' } },
    run: (seqTexts, values) => withDlq(async ({ config, js, jsm }) => {
      const seqs = values.all ? (await listDeadLetters(jsm, config, consumerFilter(values))).map((l) => l.seq) : seqTexts.map(seqArg);
      if (seqs.length === 0) throw new UsageError(values.all ? 'nothing to replay' : 'give the sequence numbers to replay, or --all');
      for (const seq of seqs) {
        const letter = await replayDeadLetter(js, jsm, config, seq);
        console.log(`replayed #${seq} (${letter.eventType} from ${letter.stream} #${letter.streamSeq}) to ${letter.consumer}`);
      }
    }),
  },
  {
    name: 'dlq drop', args: '<seq>', summary: 'delete a dead letter without replaying it',
    run: ([seqText]) => withDlq(async ({ config, jsm }) => {
      const seq = seqArg(seqText);
      if (!(await dropDeadLetter(jsm, config, seq))) throw new UsageError(`no dead letter #${seq}`);
      console.log(`dropped #${seq}`);
    }),
  },
];
